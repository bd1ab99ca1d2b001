/* wqc/wqc.h - the whole libwqc API: tensor I/O, quantizers, entropy
 * analysis. Each module's header documents its functions. */
#ifndef WQC_WQC_H
#define WQC_WQC_H

#define WQC_VERSION_MAJOR 0
#define WQC_VERSION_MINOR 1
#define WQC_VERSION_PATCH 0
#define WQC_VERSION_STRING "0.1.0"

#include "wqc/analysis.h"
#include "wqc/archive.h"
#include "wqc/weights.h"
#include "wqc/container.h"
#include "wqc/digest.h"
#include "wqc/stats.h"
#include "wqc/dtype.h"
#include "wqc/encode.h"
#include "wqc/entropy.h"
#include "wqc/f16_gemv.h"
#include "wqc/fp8.h"
#include "wqc/gguf.h"
#include "wqc/gemv.h"
#include "wqc/mapped_file.h"
#include "wqc/model_encode.h"
#include "wqc/symbol_model.h"
#include "wqc/packed.h"
#include "wqc/q4_0.h"
#include "wqc/quant.h"
#include "wqc/quantized_st.h"
#include "wqc/isa.h"
#include "wqc/lossless.h"
#include "wqc/rans.h"
#include "wqc/status.h"
#include "wqc/synthetic.h"
#include "wqc/tensor_io.h"

#endif
