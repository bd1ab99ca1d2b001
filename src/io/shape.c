/* The matrix view of a shape: what quantizers, analysis and the container
 * take as rows and columns. */
#include "wqc/tensor_io.h"

void wqc_shape_matrix(int ndim, const uint64_t *shape, uint64_t nelem, uint64_t *rows, uint64_t *cols)
{
    *rows = ndim >= 2 ? shape[0] : 1;
    *cols = 1;
    for (int d = ndim >= 2 ? 1 : 0; d < ndim; d++) *cols *= shape[d];
    if (nelem == 0) *rows = *cols = 0;
}

void wqc_tensor_matrix(const wqc_tensor *t, uint64_t *rows, uint64_t *cols)
{
    wqc_shape_matrix(t->ndim, t->shape, t->nelem, rows, cols);
}
