// Writing a file so that a failure never damages what was there: stream into "<path>.tmp", then
// rename it over <path>. Internal to sim/ (episode files, weights, checkpoints).
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace sw::detail {

// Returns "" on success, otherwise what went wrong (the temp file is removed).
inline std::string write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return "cannot open '" + tmp + "' for writing";
    write(f);
    f.flush();
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      return "write failed (disk full?)";
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return "cannot rename the temp file into place: " + ec.message();
  }
  return "";
}

}  // namespace sw::detail
