// Moving cached keys along the rotary time axis: a key the model rotated to frame p becomes the
// key it would have rotated to frame p + delta (RoPE(p + d) = R(d) RoPE(p): rotations compose),
// without the model. Sparse-forcing's memory_time_distance uses it to keep memory keys at a
// distance training covered. Only the time section moves; the spatial sections stay.
// Test: tests/attention/test_attention_core.cpp (TimeShiftTest.*) and tests/model/test_model.cpp
// (Rope.TimeShiftMatchesRopeTables: the same convention as the model's RoPE).
#pragma once

#include <ATen/ATen.h>

namespace sw::attn {

// k: [H, n, ..., D] keys of any float dtype; delta: [H, n] frames (any numeric dtype; angles are
// computed in double). The first time_dims of D rotate rotate-half style (dim i with
// i + time_dims / 2) by delta * theta^(-2i / time_dims). Returns float32 of k's shape.
at::Tensor shift_time(const at::Tensor& k, const at::Tensor& delta, int64_t time_dims, double theta);
// Every key by the same delta (made on k's device: no host-to-device copy, no synchronisation).
at::Tensor shift_time(const at::Tensor& k, int64_t delta, int64_t time_dims, double theta);

}  // namespace sw::attn
