#include "services/gateway/proxy.h"

#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <mutex>

#include "absl/strings/match.h"
#include "common/server/call.h"

namespace cf::gateway {
namespace {

// Transport and framing headers are the channel's own business; everything else travels.
bool IsForwardedHeader(absl::string_view key) {
  return !absl::StartsWith(key, ":") && !absl::StartsWith(key, "grpc-") && key != "content-type" &&
         key != "user-agent" && key != "te" && key != "host";
}

std::string ToString(const grpc::string_ref& ref) { return std::string(ref.data(), ref.size()); }
absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

// Finishes a call the gateway answers itself (no backend involved).
class ImmediateAnswer final : public grpc::ServerGenericBidiReactor {
 public:
  ImmediateAnswer(const std::string& method, const std::string& request_id, grpc::Status status)
      : method_(method), request_id_(request_id), status_(std::move(status)) {
    LogCall(method_, request_id_, status_, 0);
    Finish(status_);
  }
  void OnDone() override { delete this; }

 private:
  std::string method_;
  std::string request_id_;
  grpc::Status status_;
};

// What every relayed call sends the backend: the caller's metadata (but transport headers),
// the request id, and the caller's deadline or the default one.
void PrepareBackendContext(grpc::GenericCallbackServerContext* context,
                           const std::string& request_id, absl::Duration default_deadline,
                           grpc::ClientContext* backend) {
  for (const auto& [key, value] : context->client_metadata()) {
    if (IsForwardedHeader(View(key)) && View(key) != kRequestIdHeader) {
      backend->AddMetadata(ToString(key), ToString(value));
    }
  }
  backend->AddMetadata(kRequestIdHeader, request_id);
  auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    deadline = std::chrono::system_clock::now() +
               std::chrono::milliseconds(absl::ToInt64Milliseconds(default_deadline));
  }
  backend->set_deadline(deadline);
  context->AddTrailingMetadata(kRequestIdHeader, request_id);
}

// The backend's initial metadata, forwarded to the caller.
void CopyInitialMetadata(const grpc::ClientContext& backend,
                         grpc::GenericCallbackServerContext* context) {
  for (const auto& [key, value] : backend.GetServerInitialMetadata()) {
    if (IsForwardedHeader(View(key))) context->AddInitialMetadata(ToString(key), ToString(value));
  }
}

// The backend's trailing metadata, forwarded to the caller (but its request id: the gateway
// sends its own).
void CopyTrailingMetadata(const grpc::ClientContext& backend,
                          grpc::GenericCallbackServerContext* context) {
  for (const auto& [key, value] : backend.GetServerTrailingMetadata()) {
    if (IsForwardedHeader(View(key)) && View(key) != kRequestIdHeader) {
      context->AddTrailingMetadata(ToString(key), ToString(value));
    }
  }
}

// Logs a relayed call that started at `start`.
void LogRelayed(const grpc::GenericCallbackServerContext& context, const std::string& request_id,
                std::chrono::steady_clock::time_point start, const grpc::Status& status) {
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  LogCall(context.method(), request_id, status, ms);
}

// A relayed unary call: one read from the caller, one unary call to the backend, one write
// with the status. Far fewer operations per call than a bidirectional relay (measured with
// tests/bench:api_bench).
class UnaryProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  UnaryProxyCall(grpc::GenericCallbackServerContext* context,
                 std::shared_ptr<grpc::Channel> channel, std::string request_id,
                 absl::Duration default_deadline)
      : context_(context),
        stub_(std::move(channel)),
        request_id_(std::move(request_id)),
        start_(std::chrono::steady_clock::now()) {
    PrepareBackendContext(context, request_id_, default_deadline, &backend_context_);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the caller went away, or half-closed without its one message
      Answer(grpc::Status(grpc::StatusCode::CANCELLED, "no request message arrived"));
      return;
    }
    stub_.UnaryCall(&backend_context_, context_->method(), grpc::StubOptions(), &request_,
                    &response_, [this](grpc::Status status) {
                      CopyInitialMetadata(backend_context_, context_);
                      CopyTrailingMetadata(backend_context_, context_);
                      Answer(status);
                    });
  }

  void OnCancel() override { backend_context_.TryCancel(); }
  void OnDone() override { delete this; }

 private:
  void Answer(const grpc::Status& status) {
    LogRelayed(*context_, request_id_, start_, status);
    if (status.ok()) {
      StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
    } else {
      Finish(status);
    }
  }

  grpc::GenericCallbackServerContext* context_;
  grpc::GenericStub stub_;
  std::string request_id_;
  std::chrono::steady_clock::time_point start_;
  grpc::ClientContext backend_context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

// One relayed streaming call: the caller's side (this reactor) and the backend's side (Backend)
// move messages one at a time in each direction, so memory stays at one message per direction.
//
// A client reactor may complete (OnDone) as soon as none of its operations is outstanding, and
// starting one after that is undefined. Two holds keep it alive while the other side may still
// start one: the read hold spans each message being written to the caller (a backend read
// follows it), and the write hold lasts while caller messages may still be forwarded.
class ProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyCall(grpc::GenericCallbackServerContext* context, std::shared_ptr<grpc::Channel> channel,
            std::string request_id, absl::Duration default_deadline)
      : context_(context),
        stub_(std::move(channel)),
        request_id_(std::move(request_id)),
        start_(std::chrono::steady_clock::now()),
        backend_(this) {
    PrepareBackendContext(context, request_id_, default_deadline, &backend_context_);

    stub_.PrepareBidiStreamingCall(&backend_context_, context->method(), grpc::StubOptions(),
                                   &backend_);
    backend_.AddHold();  // the write hold
    StartRead(&from_caller_);
    backend_.StartRead(&from_backend_);
    backend_.StartCall();
  }

  // A message (or the half-close) from the caller.
  void OnReadDone(bool ok) override {
    enum { kNothing, kForward, kWritesDone, kRelease } action = kNothing;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!write_hold_) return;  // nothing more goes to the backend
      if (ok && !backend_reads_ended_) {
        backend_write_in_flight_ = true;
        action = kForward;
      } else {
        write_hold_ = false;
        action = ok ? kRelease : kWritesDone;
      }
    }
    if (action == kForward) {
      backend_.StartWrite(&from_caller_);
    } else {
      if (action == kWritesDone) backend_.StartWritesDone();
      backend_.RemoveHold();
    }
  }

  // A backend message reached the caller.
  void OnWriteDone(bool ok) override {
    if (ok) {
      backend_.StartRead(&from_backend_);
    } else {
      backend_context_.TryCancel();  // the caller is gone
    }
    backend_.RemoveHold();  // the read hold
  }

  void OnCancel() override { backend_context_.TryCancel(); }

  void OnDone() override { Release(); }

 private:
  class Backend final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Backend(ProxyCall* call) : call_(call) {}
    void OnReadDone(bool ok) override {
      if (ok) {
        AddHold();  // the read hold, until the message reached the caller
        call_->CopyInitialMetadataOnce();
        call_->StartWrite(&call_->from_backend_);
      } else {
        call_->BackendReadsEnded();
      }
    }
    void OnWriteDone(bool ok) override { call_->BackendWriteDone(ok); }
    void OnDone(const grpc::Status& status) override { call_->BackendDone(status); }

   private:
    ProxyCall* call_;
  };

  // The backend sent its last message: stop forwarding the caller's.
  void BackendReadsEnded() {
    bool release = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      backend_reads_ended_ = true;
      if (write_hold_ && !backend_write_in_flight_) {
        write_hold_ = false;
        release = true;
      }
    }
    if (release) backend_.RemoveHold();
  }

  void BackendWriteDone(bool ok) {
    bool read_more = false;
    bool release = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      backend_write_in_flight_ = false;
      if (ok && !backend_reads_ended_) {
        read_more = true;
      } else if (write_hold_) {
        write_hold_ = false;
        release = true;
      }
    }
    if (read_more) StartRead(&from_caller_);
    if (release) backend_.RemoveHold();
  }

  // The backend's initial metadata goes out with our first message or our status, whichever
  // comes first. (Its arrival callback may race with the first message's, so it is not used.)
  void CopyInitialMetadataOnce() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (initial_metadata_copied_) return;
    initial_metadata_copied_ = true;
    CopyInitialMetadata(backend_context_, context_);
  }

  void BackendDone(const grpc::Status& status) {
    CopyInitialMetadataOnce();
    CopyTrailingMetadata(backend_context_, context_);
    LogRelayed(*context_, request_id_, start_, status);
    Finish(status);  // no write to the caller is in flight: the read hold covers each one
    Release();
  }

  // Both sides report done exactly once; the second report frees the call.
  void Release() {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = ++done_count_ == 2;
    }
    if (last) delete this;
  }

  grpc::GenericCallbackServerContext* context_;
  grpc::GenericStub stub_;
  std::string request_id_;
  std::chrono::steady_clock::time_point start_;
  grpc::ClientContext backend_context_;
  Backend backend_;
  grpc::ByteBuffer from_caller_;
  grpc::ByteBuffer from_backend_;
  std::mutex mutex_;
  bool write_hold_ = true;
  bool backend_reads_ended_ = false;
  bool backend_write_in_flight_ = false;
  bool initial_metadata_copied_ = false;
  int done_count_ = 0;
};

}  // namespace

grpc::ServerGenericBidiReactor* ForwardingService::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  std::string request_id = RequestIdOf(*context);
  if (request_id.empty()) request_id = NewRequestId();
  std::string service = ServiceOfMethod(context->method());
  std::shared_ptr<grpc::Channel> channel = router_->ChannelFor(service);
  if (channel == nullptr) {
    return new ImmediateAnswer(
        context->method(), request_id,
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     "the gateway fronts no service named '" + service + "'"));
  }
  if (unary_methods_.count(context->method()) > 0) {
    return new UnaryProxyCall(context, std::move(channel), request_id, default_deadline_);
  }
  return new ProxyCall(context, std::move(channel), request_id, default_deadline_);
}

}  // namespace cf::gateway
