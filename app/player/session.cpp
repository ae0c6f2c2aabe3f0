// The frame loop. Session::run reads top to bottom as one frame: poll input -> map to an action
// -> world step -> upload -> render (world views + panel) -> present, each stage timed, then wait
// for the next game tick. Test: tests/app/test_player_window.cpp, tests/app/test_cli_player.cpp.
#include "player/session.h"

#include <chrono>

#include <fmt/core.h>
#include <imgui.h>

namespace sw::player {

Session::Session(SessionParams params, std::vector<World*> worlds, Controls& controls, render::Renderer& renderer)
    : params_(std::move(params)), worlds_(std::move(worlds)), controls_(controls), renderer_(renderer) {
  state_.seed = params_.seed;
  state_.stages = &stats_;
  state_.smooth_filter = renderer_.filter() == render::Filter::Smooth;
  state_.attention_ui = params_.attention_ui;
  for (size_t i = 0; i < worlds_.size(); ++i) {
    state_.world_names.push_back(worlds_[i]->name());
    // Worlds without attention (the reference world) say so rather than show numbers.
    if (i > 0 || !state_.attention_ui) state_.attention_lines.push_back(worlds_[i]->name() + " world: no attention");
  }
  pending_.resize(worlds_.size());
  shown_.resize(worlds_.size());
}

void Session::reset_worlds() {
  for (size_t i = 0; i < worlds_.size(); ++i) {
    worlds_[i]->reset(state_.seed);
    pending_[i].clear();
    shown_[i] = worlds_[i]->current_frame();
  }
}

void Session::run() {
  reset_worlds();
  Pacer pacer(params_.game_fps);
  const auto start = std::chrono::steady_clock::now();
  for (frame_ = 0; !quit_ && (params_.max_frames <= 0 || frame_ < params_.max_frames); ++frame_) {
    StageClock clock(stats_);
    const ControlFrame in = controls_.poll();
    apply(in);
    clock.lap(Stage::Input);
    if (frame_ > 0 && !state_.paused) step_worlds(in.action);  // frame 0 is the spawn view
    clock.lap(Stage::WorldStep);
    renderer_.upload(current_frames());
    clock.lap(Stage::Upload);
    const bool capture = wants_capture();
    const bool drawn = renderer_.render(build_ui(), capture);
    clock.lap(Stage::Render);
    if (drawn) renderer_.present();
    clock.lap(Stage::Present);
    after_frame(drawn, capture && drawn);
    if (params_.pace) pacer.wait();
  }
  wall_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Session::apply(const ControlFrame& in) {
  const InputCommands& c = in.commands;
  quit_ = quit_ || c.quit;
  if (c.toggle_pause) state_.paused = !state_.paused;
  if (c.toggle_panel) params_.show_panel = !params_.show_panel;
  if (c.toggle_filter) state_.smooth_filter = !state_.smooth_filter;
  if (in.resized) renderer_.resize(in.drawable);
  if (c.reset || state_.reset_requested) {
    reset_worlds();
    state_.reset_requested = false;
  }
  renderer_.set_filter(state_.smooth_filter ? render::Filter::Smooth : render::Filter::Nearest);
}

void Session::step_worlds(const Action& action) {
  for (size_t i = 0; i < worlds_.size(); ++i) {
    World* w = worlds_[i];
    if (pending_[i].empty()) {
      // A chunked world (the neural one) takes chunk_frames() actions per step: the action of
      // the tick that starts the chunk holds for the whole chunk.
      const std::vector<Action> actions(static_cast<size_t>(w->chunk_frames()), action);
      w->step(actions, scratch_);
      pending_[i].assign(scratch_.begin(), scratch_.end());
    }
    shown_[i] = std::move(pending_[i].front());
    pending_[i].pop_front();
  }
  game_rate_.tick();
}

std::vector<const Frame*> Session::current_frames() const {
  std::vector<const Frame*> frames;
  for (const Frame& f : shown_) frames.push_back(&f);
  return frames;
}

ImDrawData* Session::build_ui() {
  state_.game_frame = worlds_.front()->last_stats().frame_index;
  state_.game_fps = game_rate_.rate();
  state_.display_fps = display_rate_.rate();
  state_.input_status = controls_.status();
  controls_.new_ui_frame(renderer_.extent(), 1.0 / params_.game_fps);
  ImGui::NewFrame();
  if (params_.show_panel) ui::draw_panel(state_, params_.panel);
  ImGui::Render();
  return ImGui::GetDrawData();
}

bool Session::wants_capture() const {
  if (!params_.on_capture) return false;
  if (params_.capture_every > 0 && frame_ % params_.capture_every == 0) return true;
  return params_.capture_last && params_.max_frames > 0 && frame_ == params_.max_frames - 1;
}

void Session::after_frame(bool drawn, bool captured) {
  if (drawn) display_rate_.tick();
  if (captured) params_.on_capture(frame_, renderer_.capture());
  if (params_.print_speeds && (frame_ + 1) % params_.speeds_every == 0) {
    std::string line = fmt::format("frame {:6d}", frame_ + 1);
    for (int i = 0; i < kStageCount; ++i) {
      const auto s = static_cast<Stage>(i);
      line += fmt::format("  {} {:.2f}", stage_name(s), stats_.recent_mean_ms(s, params_.speeds_every));
    }
    fmt::print("{} ms   game {:.1f} fps  display {:.1f} fps\n", line, game_rate_.rate(), display_rate_.rate());
    std::fflush(stdout);
  }
}

}  // namespace sw::player
