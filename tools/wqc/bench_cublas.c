/* cuBLAS opened at run time (bench_cublas.h). */
#include "bench_cublas.h"

#include <dlfcn.h>
#include <string.h>

#include "cli.h"

int bench_cublas_open(bench_cublas *b)
{
    memset(b, 0, sizeof *b);
    /* The build's own library first, then the loader's search for its soname. */
    const char *names[] = {WQC_CUBLAS_PATH, WQC_CUBLAS_SONAME, "libcublas.so"};
    for (size_t i = 0; !b->lib && i < sizeof names / sizeof *names; i++) b->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!b->lib) {
        cli_error("cuBLAS: cannot open %s: %s", WQC_CUBLAS_SONAME, dlerror());
        return 0;
    }
    cublasStatus_t (*create)(cublasHandle_t *);
    *(void **)&create = dlsym(b->lib, "cublasCreate_v2");
    *(void **)&b->gemm_ex = dlsym(b->lib, "cublasGemmEx");
    *(void **)&b->destroy = dlsym(b->lib, "cublasDestroy_v2");
    if (!create || !b->gemm_ex || !b->destroy || create(&b->handle) != CUBLAS_STATUS_SUCCESS) {
        cli_error("cuBLAS: cannot start");
        bench_cublas_close(b);
        return 0;
    }
    return 1;
}

void bench_cublas_close(bench_cublas *b)
{
    if (b->handle) b->destroy(b->handle);
    if (b->lib) dlclose(b->lib);
    memset(b, 0, sizeof *b);
}
