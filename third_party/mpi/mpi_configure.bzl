"""Finds MPI (Debian's OpenMPI: `mpicc --showme`) and exposes it as @local_mpi.

@local_mpi//:defs.bzl defines MPI_FOUND; the MPI communicator uses if_mpi() so that it builds where MPI is
and is left out elsewhere. @local_mpi//:mpi compiles against mpi.h and links libmpi.
"""

def _showme(ctx, mpicc, what):
    result = ctx.execute([mpicc, "--showme:" + what])
    return result.stdout.strip().split(" ") if result.return_code == 0 else []

def _mpi_configure_impl(ctx):
    mpicc = ctx.which("mpicc")
    incdirs = _showme(ctx, mpicc, "incdirs") if mpicc else []
    libdirs = _showme(ctx, mpicc, "libdirs") if mpicc else []
    found = len(incdirs) > 0 and ctx.path(incdirs[0] + "/mpi.h").exists
    if found:
        for i, dir in enumerate(incdirs):
            ctx.symlink(dir, "include%d" % i)
        build = """
cc_library(
    name = "mpi",
    hdrs = glob(["include*/**/*.h"]),
    includes = [{includes}],
    linkopts = [{linkopts}, "-lmpi"],
    visibility = ["//visibility:public"],
)
""".format(
            includes = ", ".join(['"include%d"' % i for i in range(len(incdirs))]),
            linkopts = ", ".join(['"-L%s", "-Wl,-rpath,%s"' % (d, d) for d in libdirs]),
        )
    else:
        print("MPI not found (no mpicc with mpi.h): the MPI communicator is left out.")
        build = """
cc_library(
    name = "mpi",
    visibility = ["//visibility:public"],
)
"""
    ctx.file("BUILD", build)
    ctx.file("defs.bzl", """
MPI_FOUND = {found}

def if_mpi(if_true, if_false = []):
    \"\"\"if_true where MPI was found, else if_false.\"\"\"
    return if_true if MPI_FOUND else if_false
""".format(found = found))

mpi_configure = repository_rule(
    implementation = _mpi_configure_impl,
    environ = ["PATH"],
    local = True,
)
