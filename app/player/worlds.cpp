// make_worlds: the reference world here; the neural world in neural_ui.cpp (built only with
// libtorch). Test: tests/app/test_cli_player.cpp, tests/app/test_neural_player.cpp.
#include "player/worlds.h"

#include <stdexcept>

#ifdef SW_HAVE_NEURAL_WORLD
#include "player/neural_ui.h"
#include "sparseworld/sim/neural_world.h"
#endif

namespace sw::player {

std::vector<std::string> world_names() {
#ifdef SW_HAVE_NEURAL_WORLD
  return {"auto", "reference", "neural"};
#else
  return {"auto", "reference"};
#endif
}

WorldChoice resolve_world(const WorldChoice& choice, std::string* note) {
  if (choice.name != "auto") return choice;
  WorldChoice out = choice;
  out.name = "reference";
  std::string why = "this build has no neural world (no libtorch)";
#ifdef SW_HAVE_NEURAL_WORLD
  why = neural_world_unavailable(choice.model_path);
  if (why.empty()) {
    out.name = "neural";
    if (note) *note = "world: neural, model " + choice.model_path;
    return out;
  }
#endif
  if (note) *note = "world: reference (" + why + ")";
  return out;
}

WorldSet make_worlds(const WorldChoice& requested, WorldParams params, bool side_by_side) {
  const WorldChoice choice = resolve_world(requested, nullptr);
  WorldSet set;
  if (choice.name == "reference") {
    auto first = std::make_unique<ReferenceWorld>(params);
    set.reference = first.get();
    set.owned.push_back(std::move(first));
    if (side_by_side) set.owned.push_back(std::make_unique<ReferenceWorld>(params));
    return set;
  }
#ifdef SW_HAVE_NEURAL_WORLD
  if (choice.name == "neural") {
    NeuralWorldHandle neural = make_neural_world(choice);
    params.width = params.height = neural.world->width();
    set.attention_ui = neural.attention_ui;
    set.owned.push_back(std::move(neural.world));
    if (side_by_side) {  // ground truth beside the model, fed the same actions
      auto truth = std::make_unique<ReferenceWorld>(params);
      set.reference = truth.get();
      set.owned.push_back(std::move(truth));
    }
    return set;
  }
#endif
  std::string names;
  for (const auto& n : world_names()) names += (names.empty() ? "" : ", ") + n;
  throw std::invalid_argument("--world '" + choice.name + "': unknown world (worlds: " + names + ")");
}

}  // namespace sw::player
