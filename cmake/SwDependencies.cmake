# Finds SparseWorld's dependencies as Debian 12 installs them (or a PyTorch install's libtorch via
# CMAKE_PREFIX_PATH) and sets SW_HAVE_CUDA, SW_HAVE_TORCH, SW_TORCH_CUDA, SW_HAVE_PLAYER.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# --- CUDA: enabled when nvcc is found; architectures 90 unless the user sets them.
include(CheckLanguage)
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "nvcc")
endif()
check_language(CUDA)
set(SW_HAVE_CUDA OFF)
if(CMAKE_CUDA_COMPILER)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
    set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures" FORCE)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 cannot ask nvcc for C++20
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  set(SW_HAVE_CUDA ON)
endif()

# --- Header-only and small libraries.
find_package(glm REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
# stb: headers only; we compile the one implementation we use (PNG writing) ourselves, so a GPU
# server needs no prebuilt libstb.
find_path(STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb REQUIRED)
add_library(sw_stb INTERFACE)
target_include_directories(sw_stb SYSTEM INTERFACE ${STB_INCLUDE_DIR})

# --- libtorch: Debian's 1.13 (CPU) or a PyTorch install's (CUDA).
find_package(Torch QUIET)
set(SW_HAVE_TORCH OFF)
set(SW_TORCH_CUDA OFF)
if(Torch_FOUND)
  set(SW_HAVE_TORCH ON)
  if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
    set(SW_TORCH_CUDA ON)
  endif()
else()
  message(WARNING "libtorch not found: attention/ and the neural world are not built (install libtorch-dev or set CMAKE_PREFIX_PATH)")
endif()

# --- The player: SDL2 + Vulkan + glslc + ImGui + FFmpeg, all or nothing.
set(SW_HAVE_PLAYER OFF)
if(NOT SW_PLAYER STREQUAL "OFF")
  find_package(SDL2 QUIET)
  find_package(Vulkan QUIET COMPONENTS glslc)
  pkg_check_modules(IMGUI QUIET IMPORTED_TARGET imgui)
  pkg_check_modules(FFMPEG QUIET IMPORTED_TARGET libavcodec libavformat libswscale libavutil)
  if(SDL2_FOUND AND Vulkan_FOUND AND Vulkan_GLSLC_EXECUTABLE AND IMGUI_FOUND AND FFMPEG_FOUND)
    set(SW_HAVE_PLAYER ON)
  elseif(SW_PLAYER STREQUAL "ON")
    message(FATAL_ERROR "SW_PLAYER=ON but SDL2 (${SDL2_FOUND}), Vulkan (${Vulkan_FOUND}), glslc "
                        "(${Vulkan_GLSLC_EXECUTABLE}), ImGui (${IMGUI_FOUND}) or FFmpeg (${FFMPEG_FOUND}) is missing: "
                        "run scripts/setup.sh")
  else()
    message(STATUS "Player dependencies missing: building the core only (headless)")
  endif()
endif()

# Common warnings for our own targets.
function(sw_target_defaults target)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
endfunction()
