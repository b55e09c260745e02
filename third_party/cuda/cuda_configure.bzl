"""Finds CUDA and cuDNN (CUDA_PATH, else /usr/local/cuda) and exposes them as @local_cuda.

@local_cuda//:defs.bzl defines CUDA_FOUND; GPU targets use if_cuda() so that they build where CUDA is and
are left out elsewhere. @local_cuda//:cuda links cudart, cuDNN and cuBLAS.
"""

def _cuda_configure_impl(ctx):
    root = ctx.os.environ.get("CUDA_PATH", "/usr/local/cuda")
    required = ["include/cuda_runtime.h", "include/cudnn.h", "include/cublas_v2.h", "bin/nvcc"]
    missing = [f for f in required if not ctx.path(root + "/" + f).exists]
    found = len(missing) == 0
    if found:
        ctx.symlink(root + "/include", "include")
        ctx.symlink(root + "/lib64", "lib64")
        ctx.symlink(root + "/bin", "bin")
        build = """
cc_library(
    name = "cuda",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/nv/**"]),  # nv/target has no suffix
    includes = ["include"],
    linkopts = ["-L{root}/lib64", "-Wl,-rpath,{root}/lib64", "-lcudnn", "-lcublas", "-lcudart"],
    visibility = ["//visibility:public"],
)
""".format(root = root)
    else:
        print("CUDA not found under %s (missing %s): GPU targets are left out." % (root, ", ".join(missing)))
        build = """
cc_library(
    name = "cuda",
    visibility = ["//visibility:public"],
)
"""
    ctx.file("BUILD", build)
    nccl = found and ctx.path(root + "/include/nccl.h").exists
    ctx.file("defs.bzl", """
CUDA_FOUND = {found}
NCCL_FOUND = {nccl}
CUDA_ROOT = "{root}"

def if_cuda(if_true, if_false = []):
    \"\"\"if_true where CUDA and cuDNN were found, else if_false.\"\"\"
    return if_true if CUDA_FOUND else if_false

def if_nccl(if_true, if_false = []):
    \"\"\"if_true where NCCL was found beside CUDA, else if_false.\"\"\"
    return if_true if NCCL_FOUND else if_false
""".format(found = found, nccl = nccl, root = root))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    environ = ["CUDA_PATH"],
    local = True,
)
