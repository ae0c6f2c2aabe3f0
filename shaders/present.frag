// Present/upscale pass, fragment stage: samples the uploaded world frame. Nearest or smooth
// (bilinear) filtering is chosen by the sampler bound with the frame, not here, so one pipeline
// serves both. Output is written as-is into a UNORM target: the world's sRGB-encoded bytes reach
// the display unchanged. Test: tests/app/test_render.cpp.
#version 450

layout(set = 0, binding = 0) uniform sampler2D frame_tex;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

void main() {
  color = vec4(texture(frame_tex, uv).rgb, 1.0);
}
