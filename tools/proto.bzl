"""Protobuf and gRPC C++ code generation with Debian's /usr/bin/protoc (no download, no rules_proto).

All .proto files live under //protos with import paths relative to it ("cf/catalog/v1/catalog.proto").
Imported third-party protos are staged into the same package's output folder by genrules, so one
pair of -I flags (source tree and output tree) resolves every import.
"""

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def _stem(src):
    return src[:-len(".proto")]

def cf_proto_codegen(name, src, proto_deps = [], grpc = False, headers_only = False):
    """Runs protoc on one .proto file of this package, declaring the C++ files it writes.

    Args:
      name: genrule name.
      src: the .proto path relative to the package (and thus its import path).
      proto_deps: labels of the .proto files it imports (sources or staged copies).
      grpc: also run the gRPC plugin.
      headers_only: declare only the headers (for messages a system library already defines).
    """
    stem = _stem(src)
    outs = [stem + ".pb.h"]
    if grpc:
        outs.append(stem + ".grpc.pb.h")
    if not headers_only:
        outs.append(stem + ".pb.cc")
        if grpc:
            outs.append(stem + ".grpc.pb.cc")
    pkg = native.package_name()
    gen_root = "$(GENDIR)/" + pkg
    cmd = " ".join([
        _PROTOC,
        "-I" + pkg,
        "-I" + gen_root,
        "-I/usr/include",
        "--cpp_out=" + gen_root,
    ] + ([
        "--grpc_out=" + gen_root,
        "--plugin=protoc-gen-grpc=" + _GRPC_PLUGIN,
    ] if grpc else []) + ["$(location " + src + ")"])

    # A staged source sits in the output tree; protoc wants its import path, not the full one.
    cmd = cmd.replace("$(location " + src + ")", src)
    native.genrule(
        name = name,
        srcs = [src] + [d for d in proto_deps if d != src],
        outs = outs,
        cmd = cmd,
    )

def cf_stage_file(name, src_path, out):
    """Copies a file from the system (outside the workspace) into this package's output tree."""
    native.genrule(
        name = name,
        outs = [out],
        cmd = "cp " + src_path + " $@",
    )

def cf_cc_proto_library(name, src, grpc = False, headers_only = False, proto_deps = [],
                        deps = [], testonly = False):
    """Generates C++ for one .proto of this package and wraps it in a cc_library `name`.

    Includes are relative to the package, so code writes #include "cf/catalog/v1/catalog.pb.h".
    The library is linked whole: descriptors register at start-up, and reflection finds them by
    name even when no symbol is referenced.
    """
    cf_proto_codegen(
        name = name + "_codegen",
        src = src,
        proto_deps = proto_deps,
        grpc = grpc,
        headers_only = headers_only,
    )
    stem = _stem(src)
    hdrs = [stem + ".pb.h"] + ([stem + ".grpc.pb.h"] if grpc else [])
    srcs = [] if headers_only else [stem + ".pb.cc"] + ([stem + ".grpc.pb.cc"] if grpc else [])
    native.cc_library(
        name = name,
        srcs = srcs,
        hdrs = hdrs,
        includes = ["."],
        alwayslink = True,
        testonly = testonly,
        deps = deps + ["@system//:grpcpp" if grpc else "@system//:protobuf"],
    )
