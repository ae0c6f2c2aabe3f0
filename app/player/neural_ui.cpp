// Neural world construction and its panel section. Knob changes go through
// NeuralWorld::set_method / set_*_guidance, which validate them and apply them on the next chunk; an invalid
// value shows its message in the panel instead of being applied.
#include "player/neural_ui.h"

#include <fmt/core.h>
#include <imgui.h>

#include "sparseworld/sim/neural_world.h"

namespace sw::player {

namespace {

struct PanelModel {
  NeuralWorld* world = nullptr;
  attn::MethodConfig edit;  // what the widgets show and change
  std::string error;
};

void draw(PanelModel& m) {
  NeuralWorld& w = *m.world;
  const NeuralStats& s = w.neural_stats();
  static const char* const kMethods[] = {"dense", "window", "sparse-forcing", "light-forcing", "tempcache"};
  int method = static_cast<int>(m.edit.method);
  bool changed = ImGui::Combo("method", &method, kMethods, IM_ARRAYSIZE(kMethods));
  m.edit.method = static_cast<attn::Method>(method);
  ImGui::PushItemWidth(150);
  switch (m.edit.method) {
    case attn::Method::SparseForcing: {
      auto& p = m.edit.sparse_forcing;
      int k = static_cast<int>(p.top_k), nf = static_cast<int>(p.neighbour_frames), mk = static_cast<int>(p.memory_top_k);
      changed |= ImGui::SliderInt("top-k blocks", &k, 1, 64);
      // 0: every memory slot (the store's size is --memory-slots, fixed while playing).
      changed |= ImGui::SliderInt("memory top-k", &mk, 0, 64);
      p.memory_top_k = mk;
      // Frames back at which memory keys sit (0: their own frames, however far); the model's
      // training clips cover up to ~32.
      int md = static_cast<int>(p.memory_time_distance);
      changed |= ImGui::SliderInt("memory distance", &md, 0, 64);
      p.memory_time_distance = md;
      changed |= ImGui::SliderInt("neighbour frames", &nf, 0, 8);
      changed |= ImGui::Checkbox("persistent memory", &p.use_memory);
      float merge = static_cast<float>(p.merge_threshold);
      changed |= ImGui::SliderFloat("merge threshold", &merge, 0.f, 1.f);
      // 0 = no cap; the slider's log scale reaches the large caps without losing the small ones.
      float cap = static_cast<float>(p.max_count);
      changed |= ImGui::SliderFloat("max merged count", &cap, 0.f, 1024.f, "%.0f", ImGuiSliderFlags_Logarithmic);
      p.max_count = cap > 0.f && cap < 1.f ? 1.f : cap;
      p.top_k = k;
      p.neighbour_frames = nf;
      p.merge_threshold = merge;
      break;
    }
    case attn::Method::LightForcing: {
      auto& p = m.edit.light_forcing;
      int tf = static_cast<int>(p.top_frames);
      float md = static_cast<float>(p.min_density), gr = static_cast<float>(p.growth);
      changed |= ImGui::SliderInt("top frames", &tf, 1, 16);
      changed |= ImGui::SliderFloat("min density", &md, 0.01f, 1.f);
      changed |= ImGui::SliderFloat("growth", &gr, 0.f, 1.f);
      p.top_frames = tf;
      p.min_density = md;
      p.growth = gr;
      break;
    }
    case attn::Method::TempCache: {
      auto& p = m.edit.tempcache;
      float th = static_cast<float>(p.merge_threshold);
      changed |= ImGui::SliderFloat("merge cosine", &th, 0.5f, 1.f);
      changed |= ImGui::Checkbox("AnnSA (LSH)", &p.annsa);
      p.merge_threshold = th;
      break;
    }
    default:
      break;
  }
  ImGui::PopItemWidth();
  if (changed) {
    try {
      w.set_method(m.edit);
      m.error.clear();
    } catch (const std::invalid_argument& e) {
      m.error = e.what();
    }
  }
  // The sampler's guidance (each != 1 adds the chunk once more to every sampler pass: +21 ms per
  // chunk on the H100 for history guidance, docs/BENCHMARKS.md session 9).
  float action_w = static_cast<float>(w.action_guidance()), history_w = static_cast<float>(w.history_guidance());
  ImGui::PushItemWidth(150);
  const bool action_moved = ImGui::SliderFloat("action guidance", &action_w, 0.f, 4.f, "%.2f");
  const bool history_moved = ImGui::SliderFloat("history guidance", &history_w, 0.f, 4.f, "%.2f");
  ImGui::PopItemWidth();
  try {
    if (action_moved) w.set_action_guidance(action_w);
    if (history_moved) w.set_history_guidance(history_w);
    if (action_moved || history_moved) m.error.clear();
  } catch (const std::invalid_argument& e) {
    m.error = e.what();
  }
  if (!m.error.empty()) ImGui::TextColored(ImVec4(1.f, 0.4f, 0.3f, 1.f), "%s", m.error.c_str());
  const auto& c = w.config();
  ImGui::Text("in use: %s on %s, chunk %lld", s.method.c_str(), w.device_name().c_str(), static_cast<long long>(s.chunk));
  ImGui::Text("density %.3f   recall %s", s.density, s.recall >= 0 ? fmt::format("{:.3f}", s.recall).c_str() : "-");
  ImGui::Text("KV cache %.2f MB (%d layers)", s.cache_bytes / 1e6, c.depth);
  ImGui::Text("blocks merged %lld  preserved %lld  dropped %lld", static_cast<long long>(s.merged_blocks),
              static_cast<long long>(s.preserved_blocks), static_cast<long long>(s.dropped_blocks));
  ImGui::Text("chunk of %d frames (%s):", c.chunk_frames, s.gpu_timed ? "CUDA events" : "host clock");
  ImGui::Text("  denoise %.2f  commit %.2f  decode %.2f ms", s.denoise_ms, s.commit_ms, s.decode_ms);
}

}  // namespace

NeuralWorldHandle make_neural_world(const WorldChoice& choice) {
  NeuralWorldParams p;
  p.model_path = choice.model_path;
  p.device = choice.device;
  p.context_noise = choice.context_noise;
  p.action_guidance = choice.action_guidance;
  p.history_guidance = choice.history_guidance;
  p.memory_slots = choice.memory_slots;
  p.method.method = attn::method_from_name(choice.method);
  p.method.sparse_forcing.memory_top_k = choice.memory_top_k;
  p.method.sparse_forcing.memory_time_distance = choice.memory_distance;
  auto world = std::make_unique<NeuralWorld>(p);
  auto model = std::make_shared<PanelModel>();
  model->world = world.get();
  model->edit = world->method();
  NeuralWorldHandle h;
  h.attention_ui = [model] { draw(*model); };
  h.world = std::move(world);
  return h;
}

}  // namespace sw::player
