// Panel widgets. Test: tests/app/test_render.cpp.
#include "ui/panel.h"

#include <fmt/core.h>
#include <imgui.h>

namespace sw::ui {

UiContext::UiContext() {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini left in the user's working folder
  io.LogFilename = nullptr;
  ImGui::StyleColorsDark();
}

UiContext::~UiContext() { ImGui::DestroyContext(); }

void draw_panel(PanelState& s, const PanelParams& p) {
  ImGui::SetNextWindowPos(ImVec2(p.x, p.y), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(p.width, 0), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowBgAlpha(p.alpha);
  if (!ImGui::Begin("SparseWorld")) {
    ImGui::End();
    return;
  }
  std::string worlds;
  for (const auto& n : s.world_names) worlds += (worlds.empty() ? "" : " | ") + n;
  ImGui::Text("world: %s   frame %lld", worlds.c_str(), static_cast<long long>(s.game_frame));
  ImGui::SetNextItemWidth(160);
  ImGui::InputScalar("seed", ImGuiDataType_U64, &s.seed);
  ImGui::SameLine();
  if (ImGui::Button("Reset")) s.reset_requested = true;
  ImGui::Checkbox("Pause", &s.paused);
  ImGui::SameLine();
  ImGui::Checkbox("Smooth filtering", &s.smooth_filter);
  ImGui::Text("game %.1f frames/s   display %.1f frames/s", s.game_fps, s.display_fps);
  if (!s.input_status.empty()) ImGui::TextUnformatted(s.input_status.c_str());

  if (s.stages && ImGui::CollapsingHeader("Latency per stage (ms)", ImGuiTreeNodeFlags_DefaultOpen)) {
    for (int i = 0; i < player::kStageCount; ++i) {
      const auto st = static_cast<player::Stage>(i);
      const std::string label = fmt::format("{} {:.2f}", player::stage_name(st), s.stages->last_ms(st));
      ImGui::PlotLines(label.c_str(), s.stages->plot_values(st), s.stages->plot_count(), s.stages->plot_offset(st), nullptr, 0.f,
                       FLT_MAX, ImVec2(p.width - 150, p.plot_height));
    }
  }
  if (ImGui::CollapsingHeader("Attention and KV cache", ImGuiTreeNodeFlags_DefaultOpen)) {
    if (s.attention_ui) s.attention_ui();
    for (const auto& line : s.attention_lines) ImGui::TextUnformatted(line.c_str());
  }
  ImGui::End();
}

}  // namespace sw::ui
