// Paged KV cache: allocation, frame writes, eviction and byte accounting; all updates are device
// tensor ops on host-known slot ranges (no host synchronisation). Test: tests/attention (CacheTest.*).
#include "cache.h"

#include <algorithm>

namespace sw::attn {

PagedKVCache::PagedKVCache(const Geometry& g, const CacheParams& p)
    : g_(g),
      opts_(at::TensorOptions().device(p.device)),
      dtype_(p.dtype),
      sink_frames_(p.sink_frames),
      memory_slots_(p.memory_slots),
      ring_frames_(p.window_frames),
      initial_ring_frames_(p.window_frames) {
  allocate();
}

void PagedKVCache::allocate() {
  const int64_t H = g_.heads, P = num_slots(), B = g_.block, D = g_.head_dim, nb = g_.blocks_per_frame;
  k = at::zeros({H, P, B, D}, opts_.dtype(dtype_));
  v = at::zeros({H, P, B, D}, opts_.dtype(dtype_));
  count = at::zeros({H, P, B}, opts_.dtype(at::kFloat));
  kpool = at::zeros({H, P, D}, opts_.dtype(at::kFloat));
  origin = at::full({H, P}, -1, opts_.dtype(at::kLong));
  salience = at::zeros({H, P}, opts_.dtype(at::kFloat));
  slot_frame = at::full({P}, -1, opts_.dtype(at::kLong));
  region = at::full({P}, static_cast<int64_t>(kWindow), opts_.dtype(at::kLong));
  region.narrow(0, 0, memory_base()).fill_(static_cast<int64_t>(kSink));
  region.narrow(0, memory_base(), memory_slots_).fill_(static_cast<int64_t>(kMemory));
  const at::Tensor s = at::arange(P, opts_.dtype(at::kLong)).sub(ring_base()).remainder(nb);
  const at::Tensor s_sink = at::arange(P, opts_.dtype(at::kLong)).remainder(nb);
  const at::Tensor sp = at::where(region == static_cast<int64_t>(kSink), s_sink, s);
  slot_y = sp.div(g_.tiles_x, "floor");
  slot_x = sp.remainder(g_.tiles_x);
  frames_seen = 0;
  window.clear();
  free_ring.clear();
  for (int64_t r = ring_frames_ - 1; r >= 0; --r) free_ring.push_back(r);
}

void PagedKVCache::reset() {
  ring_frames_ = initial_ring_frames_;
  allocate();
}

at::Tensor PagedKVCache::valid() const { return count.gt(0).any(2); }

void PagedKVCache::write_frame(int64_t base, int64_t frame, const at::Tensor& kb, const at::Tensor& vb) {
  const int64_t nb = g_.blocks_per_frame;
  k.narrow(1, base, nb).copy_(kb);
  v.narrow(1, base, nb).copy_(vb);
  count.narrow(1, base, nb).fill_(1.0);
  origin.narrow(1, base, nb).copy_(at::arange(frame * nb, frame * nb + nb, opts_.dtype(at::kLong)).unsqueeze(0));
  salience.narrow(1, base, nb).zero_();
  slot_frame.narrow(0, base, nb).fill_(frame);
  refresh_kpool(base, nb);
}

void PagedKVCache::clear_slots(int64_t base, int64_t n) {
  count.narrow(1, base, n).zero_();
  kpool.narrow(1, base, n).zero_();
  origin.narrow(1, base, n).fill_(-1);
  salience.narrow(1, base, n).zero_();
  slot_frame.narrow(0, base, n).fill_(-1);
}

void PagedKVCache::refresh_kpool(int64_t base, int64_t n) {
  const at::Tensor c = count.narrow(1, base, n).unsqueeze(-1);              // [H, n, B, 1]
  const at::Tensor num = (k.narrow(1, base, n).to(at::kFloat) * c).sum(2);  // [H, n, D]
  kpool.narrow(1, base, n).copy_(num / c.sum(2).clamp_min(1e-6));
}

void PagedKVCache::refresh_kpool_at(const at::Tensor& slots) {
  const int64_t H = g_.heads, B = g_.block, D = g_.head_dim;
  const at::Tensor idx = slots.view({H, 1});
  const at::Tensor c = count.gather(1, idx.view({H, 1, 1}).expand({H, 1, B})).unsqueeze(-1);  // [H,1,B,1]
  const at::Tensor kk = k.gather(1, idx.view({H, 1, 1, 1}).expand({H, 1, B, D})).to(at::kFloat);
  const at::Tensor pooled = (kk * c).sum(2) / c.sum(2).clamp_min(1e-6);  // [H, 1, D]
  kpool.scatter_(1, idx.view({H, 1, 1}).expand({H, 1, D}), pooled);
}

void PagedKVCache::grow_ring(int64_t extra_frames) {
  const int64_t H = g_.heads, B = g_.block, D = g_.head_dim, nb = g_.blocks_per_frame;
  const int64_t add = extra_frames * nb;
  k = at::cat({k, at::zeros({H, add, B, D}, k.options())}, 1);
  v = at::cat({v, at::zeros({H, add, B, D}, v.options())}, 1);
  count = at::cat({count, at::zeros({H, add, B}, count.options())}, 1);
  kpool = at::cat({kpool, at::zeros({H, add, D}, kpool.options())}, 1);
  origin = at::cat({origin, at::full({H, add}, -1, origin.options())}, 1);
  salience = at::cat({salience, at::zeros({H, add}, salience.options())}, 1);
  slot_frame = at::cat({slot_frame, at::full({add}, -1, slot_frame.options())}, 0);
  region = at::cat({region, at::full({add}, static_cast<int64_t>(kWindow), region.options())}, 0);
  const at::Tensor s = at::arange(add, slot_y.options()).remainder(nb);
  slot_y = at::cat({slot_y, s.div(g_.tiles_x, "floor")}, 0);
  slot_x = at::cat({slot_x, s.remainder(g_.tiles_x)}, 0);
  for (int64_t r = ring_frames_ + extra_frames - 1; r >= ring_frames_; --r) free_ring.push_back(r);
  std::sort(free_ring.begin(), free_ring.end(), std::greater<int64_t>());
  ring_frames_ += extra_frames;
}

int64_t PagedKVCache::bytes_per_head_slot() const {
  const int64_t B = g_.block, D = g_.head_dim;
  const int64_t kv = 2 * B * D * static_cast<int64_t>(c10::elementSize(dtype_));
  const int64_t meta = B * 4 + D * 4 + 8 + 4;  // count, kpool, origin, salience
  return kv + meta;
}

at::Tensor PagedKVCache::bytes_in_use() const { return valid().sum().mul(bytes_per_head_slot()); }

}  // namespace sw::attn
