/* Internal: a model's description in the adaptive range coder's bits
 * (docs/FORMAT.md, "Models"). The alphabet and precision come from the
 * tensor (or the shared-model record) and are not repeated. */
#ifndef WQC_SYMBOL_MODEL_CODE_H
#define WQC_SYMBOL_MODEL_CODE_H

#include "../side/range_coder.h"
#include "wqc/symbol_model.h"

void wqc_symbol_model_write(wqc_rc_enc *e, const wqc_symbol_model *m);
/* WQC_ERR_FORMAT for a description no writer makes; out owns its tables. */
wqc_status wqc_symbol_model_read(wqc_rc_dec *d, uint32_t alphabet, int precision, wqc_symbol_model *out, wqc_error *err);

#endif
