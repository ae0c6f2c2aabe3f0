// make_worlds. Test: tests/app/test_cli_player.cpp.
#include "player/worlds.h"

#include <stdexcept>

namespace sw::player {

WorldSet make_worlds(const std::string& name, const WorldParams& params, bool side_by_side) {
  if (name != "reference") throw std::invalid_argument("--world '" + name + "': unknown world (worlds: reference)");
  WorldSet set;
  auto first = std::make_unique<ReferenceWorld>(params);
  set.reference = first.get();
  set.owned.push_back(std::move(first));
  if (side_by_side) set.owned.push_back(std::make_unique<ReferenceWorld>(params));
  return set;
}

}  // namespace sw::player
