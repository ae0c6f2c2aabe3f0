// PNG output through stb_image_write (Debian's libstb), written to a temp file then renamed so a
// failed write never leaves a half image behind.
#include <cstdio>
#include <filesystem>
#include <fstream>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC  // private to this file: no clash with another copy of stb
#include <stb_image_write.h>

#include "commands.h"

namespace sw::cli {

void write_png(const std::string& path, const uint8_t* rgb, int width, int height) {
  const std::string tmp = path + ".tmp";
  if (!stbi_write_png(tmp.c_str(), width, height, 3, rgb, width * 3)) {
    std::remove(tmp.c_str());
    throw UsageError("cannot write '" + path + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw UsageError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

void write_text_atomically(const std::string& path, const std::string& text, const std::string& flag) {
  const std::string what = flag.empty() ? "'" + path + "'" : flag + " '" + path + "'";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw UsageError(what + ": cannot open for writing");
    f << text;
    f.flush();
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      throw UsageError(what + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw UsageError(what + ": cannot rename the temp file into place: " + ec.message());
  }
}

}  // namespace sw::cli
