// LayerAttention: per-layer facade. attend() = plan (current method) + reference executor + metrics,
// then, on commit, cache writes with the method's eviction/merge hooks. The steady state issues no
// host synchronisation: every decision on data is a device tensor op; host code only tracks
// frame counters and slot ranges, which are data independent. stats() synchronises.
// Test: tests/attention/*.cpp.
#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

#include "layer_impl.h"
#include "time_shift.h"

namespace sw::attn {

LayerAttention::Impl::Impl(const CacheParams& cache_params, const MethodConfig& method)
    : cp(cache_params), cfg(method), g(make_geometry(cache_params)), cache(g, cache_params) {
  cfg.validate();
  check_fits_cache(cfg);
  scale = 1.0 / std::sqrt(static_cast<double>(g.head_dim));
  if (cp.recall_every > 0) tracker = std::make_unique<RecallTracker>(g, at::TensorOptions().device(cp.device).dtype(cp.dtype));
  reset();
}

void LayerAttention::Impl::reset() {
  cache.reset();
  if (tracker) tracker->reset();
  counters.reset(cp.device);
  cache_share = at::ones({g.heads}, at::TensorOptions().device(cp.device).dtype(at::kFloat));
  chunks = 0;
  last_plan = Plan{};
  last_valid = last_kept = last_recall = at::Tensor();
  last_dense_pairs = 0;
  last_recall_chunk = -1;
  memory_at_zero = at::Tensor();
  memory_frame.reset();
  if (cfg.method == Method::TempCache) hyperplanes = make_hyperplanes(g, cfg.tempcache, cp.device);
}

void LayerAttention::Impl::check_fits_cache(const MethodConfig& m) const {
  if (m.method == Method::SparseForcing && m.sparse_forcing.memory_time_distance > 0 && cp.rope_time_dims == 0)
    throw std::invalid_argument("sparse_forcing.memory_time_distance = " + std::to_string(m.sparse_forcing.memory_time_distance) +
                                ": needs the model's rotary time layout (CacheParams::rope_time_dims is 0)");
}

void LayerAttention::Impl::apply_pending() {
  if (!pending) return;
  cfg = *pending;
  pending.reset();
  if (cfg.method == Method::TempCache) hyperplanes = make_hyperplanes(g, cfg.tempcache, cp.device);
}

void LayerAttention::Impl::check_input(const at::Tensor& t, const char* name) const {
  const int64_t tokens = g.chunk_frames * g.tokens_per_frame;
  auto fail = [&](const std::string& what) { throw std::invalid_argument(std::string("attend: ") + name + " " + what); };
  if (!t.defined()) fail("is undefined");
  if (t.dim() != 3 || t.size(0) != g.heads || t.size(1) != tokens || t.size(2) != g.head_dim)
    fail("has shape " + std::string(c10::str(t.sizes())) + ", expected [" + std::to_string(g.heads) + ", " +
         std::to_string(tokens) + ", " + std::to_string(g.head_dim) + "]");
  if (t.scalar_type() != cp.dtype) fail(std::string("has dtype ") + c10::toString(t.scalar_type()) + ", expected " + c10::toString(cp.dtype));
  if (t.device() != cp.device) fail("is on " + t.device().str() + ", expected " + cp.device.str());
}

PlanContext LayerAttention::Impl::context(const at::Tensor& qb, const at::Tensor& kb) const {
  const int64_t P = cache.num_slots(), C = g.chunk_blocks(), nb = g.blocks_per_frame, H = g.heads;
  const auto lopt = at::TensorOptions().device(cp.device).dtype(at::kLong);
  PlanContext c;
  c.g = &g;
  c.cache = &cache;
  c.P = P;
  c.C = C;
  c.N = P + C;
  c.qpool = qb.to(at::kFloat).mean(2);
  c.qblocks = qb;
  c.kpool = at::cat({cache.kpool, kb.to(at::kFloat).mean(2)}, 1);
  c.valid = at::cat({cache.valid(), at::ones({H, C}, lopt.dtype(at::kBool))}, 1);
  c.region = at::cat({cache.region, at::full({C}, static_cast<int64_t>(kChunk), lopt)});
  const at::Tensor cs = at::arange(C, lopt);
  c.frame = at::cat({cache.slot_frame, cs.div(nb, "floor").add(cache.frames_seen)});
  // Memory slots sit where their content came from; sink/ring slots where their frame put them.
  const at::Tensor content = cache.origin.remainder(nb);
  const at::Tensor is_mem = cache.region.eq(kMemory).unsqueeze(0);
  const at::Tensor sy = at::where(is_mem, content.div(g.tiles_x, "floor"), cache.slot_y.unsqueeze(0).expand({H, P}));
  const at::Tensor sx = at::where(is_mem, content.remainder(g.tiles_x), cache.slot_x.unsqueeze(0).expand({H, P}));
  const at::Tensor qs = cs.remainder(nb);
  c.qy = qs.div(g.tiles_x, "floor");
  c.qx = qs.remainder(g.tiles_x);
  c.y = at::cat({sy, c.qy.unsqueeze(0).expand({H, C})}, 1);
  c.x = at::cat({sx, c.qx.unsqueeze(0).expand({H, C})}, 1);
  c.newest_frame = cache.frames_seen - 1;
  c.chunk_index = chunks;
  c.window_frames = cp.window_frames;
  return c;
}

Plan LayerAttention::Impl::build_plan(const PlanContext& c) const {
  switch (cfg.method) {
    case Method::Dense: return plan_dense(c);
    case Method::Window: return plan_window(c);
    case Method::SparseForcing: return plan_sparse_forcing(c, cfg.sparse_forcing);
    case Method::LightForcing: return plan_light_forcing(c, cfg.light_forcing, cache_share);
    case Method::TempCache: return plan_tempcache(c, cfg.tempcache, hyperplanes);
  }
  throw std::logic_error("unknown method");
}

at::Tensor LayerAttention::Impl::attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool commit_chunk) {
  apply_pending();
  check_input(q, "q");
  check_input(k, "k");
  check_input(v, "v");
  if (moves_memory_in_time())
    place_memory(cache.frames_seen - cfg.sparse_forcing.memory_time_distance);
  else if (memory_at_zero.defined())
    memory_to_origins();
  const int64_t F = g.chunk_frames, H = g.heads, C = g.chunk_blocks(), B = g.block;
  const at::Tensor qb = tokens_to_blocks(q, g, F), kb = tokens_to_blocks(k, g, F), vb = tokens_to_blocks(v, g, F);
  const PlanContext ctx = context(qb, kb);
  Plan plan = build_plan(ctx);
  const at::Tensor count_all = at::cat({cache.count, at::ones({H, C, B}, cache.count.options())}, 1);
  const ExecResult r = execute_plan(qb, at::cat({cache.k, kb}, 1), at::cat({cache.v, vb}, 1), count_all, plan, scale,
                                    /*want_mass=*/commit_chunk);
  last_kept = plan.count.sum();
  last_dense_pairs = H * C * (cache.frames_seen * g.blocks_per_frame + C);
  if (tracker && chunks % cp.recall_every == 0) {
    last_recall = tracker->recall(qb, kb, plan.keep, ctx.P, scale);
    last_recall_chunk = chunks;
  }
  last_valid = ctx.valid;
  last_plan = std::move(plan);
  if (commit_chunk) {
    const double queries = static_cast<double>(C * B);
    const at::Tensor pool_mass = r.mass.narrow(1, 0, ctx.P) / queries;
    cache.salience.mul_(cfg.sparse_forcing.salience_decay).add_(pool_mass);
    cache_share = pool_mass.sum(1);
    commit(kb, vb, r.mass.narrow(1, ctx.P, C) / queries);
    ++chunks;
  }
  return blocks_to_tokens(r.out, g, F).to(q.scalar_type());
}

void LayerAttention::Impl::evict_oldest() {
  const int64_t nb = g.blocks_per_frame;
  const PagedKVCache::WindowFrame wf = cache.window.front();
  cache.window.pop_front();
  const int64_t base = cache.ring_slot(wf.ring);
  if (cfg.method == Method::SparseForcing && memory_frame && moves_memory_in_time()) {
    // The leaving frame's keys join the memory at the memory's frame, so merges compare and
    // average content, not content plus age. Slots the eviction rewrote get their frame-0 keys anew.
    // The recall tracker keeps its shadow keys at their true frames: its dense reference is the
    // model's attention over the real history, which is what recall is measured against.
    const int64_t H = g.heads, mb = cache.memory_base(), M = cache.memory_slots();
    at::Tensor leaving = cache.k.narrow(1, base, nb);
    leaving.copy_(shift_time(leaving, *memory_frame - wf.frame, cp.rope_time_dims, cp.rope_theta));
    cache.refresh_kpool(base, nb);
    const at::Tensor before = cache.k.narrow(1, mb, M).clone();
    sparse_forcing_evict_blocks(cache, base, nb, cfg.sparse_forcing, tracker.get(), counters);
    const at::Tensor after = cache.k.narrow(1, mb, M);
    const at::Tensor rewritten = after.ne(before).flatten(2).any(2).view({H, M, 1, 1});
    memory_at_zero = at::where(rewritten, shift_time(after, -*memory_frame, cp.rope_time_dims, cp.rope_theta),
                               memory_at_zero);
  } else if (cfg.method == Method::SparseForcing) {
    sparse_forcing_evict_blocks(cache, base, nb, cfg.sparse_forcing, tracker.get(), counters);
  } else {
    counters.dropped_blocks.add_(cache.valid().narrow(1, base, nb).sum());
  }
  cache.clear_slots(base, nb);
  if (tracker) tracker->drop_slots(base, nb);
  cache.free_ring.push_back(wf.ring);
  std::sort(cache.free_ring.begin(), cache.free_ring.end(), std::greater<int64_t>());
}

bool LayerAttention::Impl::moves_memory_in_time() const {
  return cfg.method == Method::SparseForcing && cfg.sparse_forcing.use_memory && cfg.sparse_forcing.memory_time_distance > 0 &&
         cache.memory_slots() > 0;
}

at::Tensor LayerAttention::Impl::memory_origin_frames() const {
  const at::Tensor origin = cache.origin.narrow(1, cache.memory_base(), cache.memory_slots());
  return at::where(origin.ge(0), origin.div(g.blocks_per_frame, "floor"), at::zeros_like(origin));
}

void LayerAttention::Impl::place_memory(int64_t frame) {
  const int64_t mb = cache.memory_base(), M = cache.memory_slots();
  at::Tensor mem_k = cache.k.narrow(1, mb, M);
  // First use, or switched on mid-rollout: each slot's keys sit at the frame their content came from.
  if (!memory_at_zero.defined()) memory_at_zero = shift_time(mem_k, memory_origin_frames().neg(), cp.rope_time_dims, cp.rope_theta);
  if (memory_frame == frame) return;
  mem_k.copy_(shift_time(memory_at_zero, frame, cp.rope_time_dims, cp.rope_theta));
  cache.refresh_kpool(mb, M);
  memory_frame = frame;
}

void LayerAttention::Impl::memory_to_origins() {
  const int64_t mb = cache.memory_base(), M = cache.memory_slots();
  cache.k.narrow(1, mb, M).copy_(shift_time(memory_at_zero, memory_origin_frames(), cp.rope_time_dims, cp.rope_theta));
  cache.refresh_kpool(mb, M);
  memory_at_zero = at::Tensor();
  memory_frame.reset();
}

void LayerAttention::Impl::commit(const at::Tensor& kb, const at::Tensor& vb, const at::Tensor& chunk_mass) {
  const int64_t nb = g.blocks_per_frame;
  const bool bounded = cfg.method != Method::Dense;
  for (int64_t f = 0; f < g.chunk_frames; ++f) {
    const int64_t frame = cache.frames_seen;
    const at::Tensor kf = kb.narrow(1, f * nb, nb), vf = vb.narrow(1, f * nb, nb);
    int64_t base;
    if (frame < cache.sink_frames()) {
      base = cache.sink_base() + frame * nb;
      cache.write_frame(base, frame, kf, vf);
      if (tracker) tracker->append_frame(kf, base);
    } else {
      while (bounded && static_cast<int64_t>(cache.window.size()) >= cp.window_frames) evict_oldest();
      if (cache.free_ring.empty()) cache.grow_ring(cache.ring_frames());  // dense only: doubling
      const int64_t ring = cache.free_ring.back();
      cache.free_ring.pop_back();
      base = cache.ring_slot(ring);
      const bool has_prev = !cache.window.empty() && cache.window.back().frame == frame - 1;
      const int64_t prev_base = has_prev ? cache.ring_slot(cache.window.back().ring) : -1;
      cache.write_frame(base, frame, kf, vf);
      if (tracker) tracker->append_frame(kf, base);
      if (cfg.method == Method::TempCache && has_prev)
        tempcache_merge_frame(cache, g, prev_base, base, cfg.tempcache, tracker.get(), counters);
      cache.window.push_back({frame, ring});
    }
    cache.salience.narrow(1, base, nb).copy_(chunk_mass.narrow(1, f * nb, nb));
    ++cache.frames_seen;
  }
}

LayerStats LayerAttention::Impl::stats() const {
  LayerStats s;
  s.method = method_name(cfg.method);
  s.chunks = chunks;
  if (last_kept.defined() && last_dense_pairs > 0)
    s.density = static_cast<double>(last_kept.item<int64_t>()) / static_cast<double>(last_dense_pairs);
  if (last_recall.defined()) s.recall = last_recall.item<double>();
  s.recall_chunk = last_recall_chunk;
  s.cache_bytes = cache.bytes_in_use().item<int64_t>();
  s.reserved_bytes = cache.reserved_bytes();
  s.merged_blocks = counters.merged_blocks.item<int64_t>();
  s.preserved_blocks = counters.preserved_blocks.item<int64_t>();
  s.dropped_blocks = counters.dropped_blocks.item<int64_t>();
  s.merged_tokens = counters.merged_tokens.item<int64_t>();
  return s;
}

// ---- facade

LayerAttention::LayerAttention(const CacheParams& cache, const MethodConfig& method)
    : impl_(std::make_unique<Impl>(cache, method)) {}
LayerAttention::~LayerAttention() = default;
LayerAttention::LayerAttention(LayerAttention&&) noexcept = default;
LayerAttention& LayerAttention::operator=(LayerAttention&&) noexcept = default;

at::Tensor LayerAttention::attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool commit) {
  return impl_->attend(q, k, v, commit);
}
void LayerAttention::set_method(const MethodConfig& method) {
  method.validate();
  impl_->check_fits_cache(method);
  impl_->pending = method;
}
void LayerAttention::reset() { impl_->reset(); }
LayerStats LayerAttention::stats() const { return impl_->stats(); }
const CacheParams& LayerAttention::cache_params() const { return impl_->cp; }
const MethodConfig& LayerAttention::method() const { return impl_->pending ? *impl_->pending : impl_->cfg; }
LayerAttention::Impl& LayerAttention::impl() { return *impl_; }

}  // namespace sw::attn
