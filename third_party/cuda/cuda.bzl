"""Rules for GPU targets: they exist where @local_cuda found CUDA and cuDNN, and are left out elsewhere."""

load("@local_cuda//:defs.bzl", "CUDA_FOUND", "CUDA_ROOT", _if_cuda = "if_cuda")
load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

if_cuda = _if_cuda

# Hopper (sm_90) machine code, plus its PTX for later GPUs to compile at load time.
NVCC_FLAGS = [
    "-std=c++17",
    "-O3",
    "--extended-lambda",
    "-gencode=arch=compute_90,code=[sm_90,compute_90]",
    "-Xcompiler=-fPIC,-Wall,-Wextra,-Wno-unused-parameter",
    "-Werror=all-warnings",
    "-I.",
]

def _with_cuda(kwargs):
    kwargs["deps"] = kwargs.get("deps", []) + ["@local_cuda//:cuda"]
    return kwargs

def cuda_cc_library(**kwargs):
    if CUDA_FOUND:
        cc_library(**_with_cuda(kwargs))

def cuda_cc_binary(**kwargs):
    if CUDA_FOUND:
        cc_binary(**_with_cuda(kwargs))

def cuda_cc_test(**kwargs):
    if CUDA_FOUND:
        cc_test(**_with_cuda(kwargs))

def cuda_kernels(name, srcs, hdrs = [], deps = [], visibility = None):
    """A cc_library of CUDA kernels: nvcc compiles each .cu of srcs (which may include hdrs and the
    headers of deps, named from the workspace root) to an object file."""
    if not CUDA_FOUND:
        return
    objects = []
    for src in srcs:
        obj = "_%s/%s.o" % (name, src[:-len(".cu")])
        native.genrule(
            name = "%s_%s" % (name, src[:-len(".cu")].replace("/", "_")),
            srcs = [src] + hdrs + [
                "//backends:communicator.h",
                "//backends:plugin.h",
                "//backends:optimizer_math.h",
            ],
            outs = [obj],
            cmd = "%s/bin/nvcc %s -c $(location %s) -o $@" % (CUDA_ROOT, " ".join(NVCC_FLAGS), src),
            message = "nvcc " + src,
        )
        objects.append(obj)
    cc_library(
        name = name,
        srcs = objects,
        hdrs = hdrs,
        visibility = visibility,
        deps = _with_cuda({"deps": deps})["deps"],
        alwayslink = True,
    )
