"""Rules for GPU targets: they exist where @local_cuda found CUDA and cuDNN, and are left out elsewhere."""

load("@local_cuda//:defs.bzl", "CUDA_FOUND")
load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

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
