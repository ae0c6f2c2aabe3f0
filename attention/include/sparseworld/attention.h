// sw::attn: block-sparse attention for autoregressive video rollouts (issue 4). One LayerAttention
// per transformer layer owns a paged KV cache and a sparsity method; attend() runs the chunk's
// queries against the cache plus the chunk itself and, on commit, writes the chunk into the cache.
// Methods: dense, window, sparse-forcing, light-forcing, tempcache (+AnnSA); see docs/ATTENTION.md.
// Test: ctest -L fast in the build folder (tests/attention); sparseworld attn-probe --method all.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>

namespace sw::attn {

// Shape of one layer's attention and of its cache. Blocks are spatial tiles of block_size tokens
// of one frame; the tile shape is the most square tiling of the token grid (rejected if none).
struct CacheParams {
  int64_t heads = 4;
  int64_t head_dim = 32;
  int64_t grid_h = 16;             // frame height in tokens
  int64_t grid_w = 16;             // frame width in tokens
  int64_t tokens_per_frame = 0;    // 0: grid_h * grid_w; otherwise must equal it
  int64_t block_size = 64;         // B
  int64_t chunk_frames = 2;        // F: frames denoised jointly per attend()
  int64_t sink_frames = 1;         // S: first frames, kept forever
  int64_t window_frames = 8;       // W: most recent frames kept (dense ignores it and grows)
  int64_t memory_slots = 16;       // M: persistent memory blocks per head (sparse-forcing)
  c10::ScalarType dtype = c10::ScalarType::Float;  // Float, Half or BFloat16
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  // Measure recall against dense attention over the full history every N chunks (0: never).
  // Keeps a shadow copy of all keys ever committed (not counted in cache bytes) and costs a dense
  // pass on the measured chunks.
  int64_t recall_every = 0;
  // The keys' rotary time encoding, as the model applies it before attend(): the first
  // rope_time_dims of head_dim rotate with the frame index, rotate-half style (dim i pairs with
  // i + rope_time_dims / 2) at frequency rope_theta^(-2i / rope_time_dims). 0: unknown (methods
  // that move keys in time, SparseForcingParams::memory_time_distance, are then refused).
  int64_t rope_time_dims = 0;
  double rope_theta = 10000.0;

  int64_t frame_tokens() const { return tokens_per_frame > 0 ? tokens_per_frame : grid_h * grid_w; }
  void validate() const;  // throws std::invalid_argument naming the field and value
};

enum class Method { Dense, Window, SparseForcing, LightForcing, TempCache };

// Method names as the CLI spells them: dense, window, sparse-forcing, light-forcing, tempcache.
std::string method_name(Method m);
Method method_from_name(const std::string& name);  // throws std::invalid_argument

// Every cached block (unbounded window: the cache grows) plus the chunk.
struct DenseParams {
  void validate() const {}
};

// Sink frames + the last window_frames frames (of CacheParams) + the chunk.
struct WindowParams {
  void validate() const {}
};

struct SparseForcingParams {
  int64_t top_k = 8;               // window blocks kept per query block, by pooled q . pooled k
  int64_t neighbour_frames = 1;    // most recent frames whose nearby blocks are always kept
  int64_t neighbour_radius = 1;    // in blocks (Chebyshev distance on the block grid)
  bool use_memory = true;          // attend to and update the persistent memory
  // Memory blocks kept per query block, by pooled q . pooled k, as the training mask picks the
  // older blocks it attends to (0: every memory slot, always). Attending to every slot of a
  // larger memory measured worse recall than a 16-slot one (docs/BENCHMARKS.md, session 11).
  int64_t memory_top_k = 0;
  double salience_decay = 0.9;     // per committed chunk; salience = decayed attention mass received
  double preserve_min_mass = 0.0;  // an evicted block needs at least this salience to be preserved
  double merge_threshold = 0.5;    // cosine(pooled k) at or above which a block is merged, else dropped
  // Cap on a memory token's count (0: none). Counts add on every merge and enter the logits as
  // log(count): uncapped, slots that absorbed hundreds of blocks outweigh the window and the
  // shipped model's long rollouts freeze on one wall (motion 0.7 vs the truth's 15 over 120 s).
  // At the cap a slot's K/V become a moving average (weight 1/(cap+1) per new block) and its bias
  // stays <= log(cap). 1 (no bias at all) is the only cap measured to keep a 300-s rollout within
  // the truth's statistics, and it beats window at 5-60 s and on revisits (docs/BENCHMARKS.md, session 6).
  double max_count = 1;
  // Memory keys keep the time position of the frame they came from (0), or all sit this many
  // frames before the chunk being generated (> 0; needs CacheParams::rope_time_dims). Training
  // clips are ~32 frames, so the model never saw a key hundreds of frames away; a memory key at a
  // trained distance is one it has learnt to read. Merges then compare and average keys at one
  // position (content only).
  int64_t memory_time_distance = 0;
  void validate() const;
};

struct LightForcingParams {
  int64_t top_frames = 4;          // window frames kept per query block (frame-level score)
  double initial_density = 1.0;    // share of the top frames' blocks kept on the first chunk
  double min_density = 0.25;       // floor of that share
  double growth = 0.05;            // sparsity growth: share ~ initial / (1 + growth * chunk)
  double contribution_weight = 0.5;// how much the measured cache contribution scales the share
  void validate() const;
};

struct TempCacheParams {
  double merge_threshold = 0.95;   // cosine above which a key merges into the previous frame's key
  bool annsa = true;               // restrict window blocks to the query block's LSH buckets
  int64_t lsh_bits = 3;            // hyperplanes per table
  int64_t lsh_tables = 2;          // a block is kept when any table's bucket matches
  int64_t local_frames = 1;        // most recent frames always kept in full
  uint64_t seed = 1234;            // hyperplanes
  void validate() const;
};

struct MethodConfig {
  Method method = Method::Dense;
  DenseParams dense;
  WindowParams window;
  SparseForcingParams sparse_forcing;
  LightForcingParams light_forcing;
  TempCacheParams tempcache;
  void validate() const;  // validates the selected method's params
};

struct LayerStats {
  std::string method;
  int64_t chunks = 0;             // committed chunks
  double density = 0;             // last attend: kept / dense block pairs (dense = full history)
  double recall = -1;             // last measured recall (share of dense softmax mass kept); -1: never
  int64_t recall_chunk = -1;      // chunk index that recall was measured on
  int64_t cache_bytes = 0;        // bytes of K/V pages in use (all heads) + their metadata
  int64_t reserved_bytes = 0;     // bytes of the whole preallocated pool
  int64_t merged_blocks = 0;      // cumulative: blocks merged into a memory slot
  int64_t preserved_blocks = 0;   // cumulative: blocks preserved into memory
  int64_t dropped_blocks = 0;     // cumulative: blocks that left the cache
  int64_t merged_tokens = 0;      // cumulative: tokens merged into the previous frame (tempcache)
};

class LayerAttention {
 public:
  LayerAttention(const CacheParams& cache, const MethodConfig& method);
  ~LayerAttention();
  LayerAttention(LayerAttention&&) noexcept;
  LayerAttention& operator=(LayerAttention&&) noexcept;

  // q, k, v: [heads, chunk_frames * tokens_per_frame, head_dim], row-major tokens per frame, on the
  // cache's device and dtype. Attends to the cache (through the method's plan) plus the whole
  // chunk; commit writes the chunk's K/V into the cache afterwards. Returns q's shape and dtype.
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool commit);
  void set_method(const MethodConfig& method);  // validated now, takes effect on the next attend
  void reset();                                  // empties the cache and counters
  LayerStats stats() const;                      // reads device scalars (synchronises)
  const CacheParams& cache_params() const;
  const MethodConfig& method() const;

  struct Impl;  // attention/src/layer_impl.h; tests reach the plan and cache through it
  Impl& impl();

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sw::attn
