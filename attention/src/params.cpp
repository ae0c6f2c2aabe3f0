// Validation of CacheParams and of each method's params: every rejection is one line naming the
// field and its value. Test: tests/attention (ParamsTest.*).
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sparseworld/attention.h"

namespace sw::attn {

namespace {

template <typename T>
[[noreturn]] void reject(const std::string& field, T value, const std::string& why) {
  std::ostringstream s;
  s << field << " = " << value << ": " << why;
  throw std::invalid_argument(s.str());
}

void require_positive(const std::string& field, int64_t v) {
  if (v < 1) reject(field, v, "must be at least 1");
}

void require_unit(const std::string& field, double v, bool allow_zero) {
  if (!std::isfinite(v) || v > 1 || v < 0 || (!allow_zero && v == 0))
    reject(field, v, allow_zero ? "must be in [0, 1]" : "must be in (0, 1]");
}

}  // namespace

void CacheParams::validate() const {
  require_positive("heads", heads);
  require_positive("head_dim", head_dim);
  require_positive("grid_h", grid_h);
  require_positive("grid_w", grid_w);
  if (tokens_per_frame != 0 && tokens_per_frame != grid_h * grid_w)
    reject("tokens_per_frame", tokens_per_frame,
           "must equal grid_h * grid_w = " + std::to_string(grid_h * grid_w) + " (or 0)");
  require_positive("block_size", block_size);
  if (block_size > frame_tokens() || frame_tokens() % block_size)
    reject("block_size", block_size, "does not tile a frame of " + std::to_string(frame_tokens()) + " tokens");
  require_positive("chunk_frames", chunk_frames);
  if (sink_frames < 0) reject("sink_frames", sink_frames, "must be at least 0");
  if (window_frames < 1) reject("window_frames", window_frames, "must be at least 1");
  if (memory_slots < 0) reject("memory_slots", memory_slots, "must be at least 0");
  if (recall_every < 0) reject("recall_every", recall_every, "must be at least 0 (0: never)");
  if (rope_time_dims < 0 || rope_time_dims > head_dim || rope_time_dims % 2)
    reject("rope_time_dims", rope_time_dims, "must be even and in [0, head_dim = " + std::to_string(head_dim) + "]");
  if (!std::isfinite(rope_theta) || rope_theta <= 1) reject("rope_theta", rope_theta, "must be finite and > 1");
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16)
    reject("dtype", dtype, "must be Float, Half or BFloat16");
}

void SparseForcingParams::validate() const {
  if (top_k < 1) reject("sparse_forcing.top_k", top_k, "must be at least 1");
  if (neighbour_frames < 0) reject("sparse_forcing.neighbour_frames", neighbour_frames, "must be at least 0");
  if (memory_top_k < 0) reject("sparse_forcing.memory_top_k", memory_top_k, "must be at least 0 (0: every memory slot)");
  if (neighbour_radius < 0) reject("sparse_forcing.neighbour_radius", neighbour_radius, "must be at least 0");
  if (memory_time_distance < 0)
    reject("sparse_forcing.memory_time_distance", memory_time_distance, "must be at least 0 (0: keys stay at their frame)");
  require_unit("sparse_forcing.salience_decay", salience_decay, true);
  if (!std::isfinite(preserve_min_mass) || preserve_min_mass < 0)
    reject("sparse_forcing.preserve_min_mass", preserve_min_mass, "must be finite and at least 0");
  if (!std::isfinite(merge_threshold) || merge_threshold < -1 || merge_threshold > 1)
    reject("sparse_forcing.merge_threshold", merge_threshold, "must be a cosine in [-1, 1]");
  if (!std::isfinite(max_count) || (max_count != 0 && max_count < 1))
    reject("sparse_forcing.max_count", max_count, "must be 0 (no cap) or at least 1");
}

void LightForcingParams::validate() const {
  if (top_frames < 1) reject("light_forcing.top_frames", top_frames, "must be at least 1");
  require_unit("light_forcing.initial_density", initial_density, false);
  require_unit("light_forcing.min_density", min_density, false);
  if (min_density > initial_density)
    reject("light_forcing.min_density", min_density, "must not exceed initial_density " + std::to_string(initial_density));
  if (!std::isfinite(growth) || growth < 0) reject("light_forcing.growth", growth, "must be finite and at least 0");
  require_unit("light_forcing.contribution_weight", contribution_weight, true);
}

void TempCacheParams::validate() const {
  if (!std::isfinite(merge_threshold) || merge_threshold < -1 || merge_threshold > 1)
    reject("tempcache.merge_threshold", merge_threshold, "must be a cosine in [-1, 1]");
  if (lsh_bits < 1 || lsh_bits > 16) reject("tempcache.lsh_bits", lsh_bits, "must be in [1, 16]");
  require_positive("tempcache.lsh_tables", lsh_tables);
  if (local_frames < 0) reject("tempcache.local_frames", local_frames, "must be at least 0");
}

void MethodConfig::validate() const {
  switch (method) {
    case Method::Dense: dense.validate(); break;
    case Method::Window: window.validate(); break;
    case Method::SparseForcing: sparse_forcing.validate(); break;
    case Method::LightForcing: light_forcing.validate(); break;
    case Method::TempCache: tempcache.validate(); break;
  }
}

std::string method_name(Method m) {
  switch (m) {
    case Method::Dense: return "dense";
    case Method::Window: return "window";
    case Method::SparseForcing: return "sparse-forcing";
    case Method::LightForcing: return "light-forcing";
    case Method::TempCache: return "tempcache";
  }
  return "?";
}

Method method_from_name(const std::string& name) {
  for (Method m : {Method::Dense, Method::Window, Method::SparseForcing, Method::LightForcing, Method::TempCache})
    if (method_name(m) == name) return m;
  throw std::invalid_argument("unknown attention method '" + name +
                              "' (methods: dense, window, sparse-forcing, light-forcing, tempcache)");
}

}  // namespace sw::attn
