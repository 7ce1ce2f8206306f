#include "common/server/reflection.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <algorithm>

namespace cf {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

// Appends `file` and, before it, every dependency not yet sent.
void AddFileWithDependencies(const FileDescriptor* file, std::vector<std::string>* sent,
                             ServerReflectionResponse* response) {
  if (std::find(sent->begin(), sent->end(), file->name()) != sent->end()) return;
  sent->push_back(file->name());
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  response->mutable_file_descriptor_response()->add_file_descriptor_proto(
      proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileWithDependencies(file->dependency(i), sent, response);
  }
}

void SetNotFound(const std::string& what, ServerReflectionResponse* response) {
  auto* error = response->mutable_error_response();
  error->set_error_code(static_cast<int>(grpc::StatusCode::NOT_FOUND));
  error->set_error_message(what + " not found");
}

}  // namespace

ReflectionService::ReflectionService(std::vector<std::string> service_names)
    : service_names_(std::move(service_names)) {
  if (std::find(service_names_.begin(), service_names_.end(), kServiceName) ==
      service_names_.end()) {
    service_names_.push_back(kServiceName);
  }
  std::sort(service_names_.begin(), service_names_.end());
}

ServerReflectionResponse ReflectionService::Answer(const ServerReflectionRequest& request,
                                                   std::vector<std::string>* sent_files) const {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  switch (request.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : service_names_) {
        response.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case ServerReflectionRequest::kFileByFilename: {
      const FileDescriptor* file = pool->FindFileByName(request.file_by_filename());
      if (file == nullptr) {
        SetNotFound("file " + request.file_by_filename(), &response);
      } else {
        AddFileWithDependencies(file, sent_files, &response);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingSymbol: {
      const FileDescriptor* file = pool->FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) {
        SetNotFound("symbol " + request.file_containing_symbol(), &response);
      } else {
        // A client asking by symbol may have dropped earlier files; send this one regardless.
        sent_files->erase(std::remove(sent_files->begin(), sent_files->end(), file->name()),
                          sent_files->end());
        AddFileWithDependencies(file, sent_files, &response);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingExtension: {
      const auto& extension = request.file_containing_extension();
      const auto* type = pool->FindMessageTypeByName(extension.containing_type());
      const auto* field = type == nullptr
                              ? nullptr
                              : pool->FindExtensionByNumber(type, extension.extension_number());
      if (field == nullptr) {
        SetNotFound("extension", &response);
      } else {
        AddFileWithDependencies(field->file(), sent_files, &response);
      }
      break;
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetNotFound("type " + request.all_extension_numbers_of_type(), &response);
        break;
      }
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* field : extensions) numbers->add_extension_number(field->number());
      break;
    }
    default: {
      auto* error = response.mutable_error_response();
      error->set_error_code(static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
      error->set_error_message("unknown reflection request");
    }
  }
  return response;
}

grpc::Status ReflectionService::ServerReflectionInfo(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  std::vector<std::string> sent_files;
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    if (!stream->Write(Answer(request, &sent_files))) break;
  }
  return grpc::Status::OK;
}

}  // namespace cf
