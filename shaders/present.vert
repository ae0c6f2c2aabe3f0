// Present/upscale pass, vertex stage: one quad (triangle strip of 4 vertices, no vertex buffer)
// covering the viewport, which the renderer sets to the aspect-preserving rectangle of one world
// view. Compiled to SPIR-V by the build (app/CMakeLists.txt). Test: tests/app/test_render.cpp.
#version 450

layout(location = 0) out vec2 uv;

void main() {
  vec2 corner = vec2(float(gl_VertexIndex & 1), float(gl_VertexIndex >> 1));
  uv = corner;  // (0,0) is the frame's top-left pixel: Vulkan's clip-space y points down
  gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
