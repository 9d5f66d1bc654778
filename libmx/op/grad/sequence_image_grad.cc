// Gradients of the sequence ops (op/sequence_ops.cc). Each is again a sequence op, so gradients of
// gradients work: masking and reversing are their own adjoints (with value 0 for the mask), and
// SequenceLast's adjoint is the scatter _backward_SequenceLast, whose adjoint is SequenceLast.
// The lengths input gets no gradient.
// BilinearResize2D (op/image_ops.cc) is linear: its gradient is the adjoint
// _backward_contrib_BilinearResize2D, whose own gradient is the resize again (mode 'like', to the
// size of the ograd it spread back).
#include <vector>

#include "op/registry.h"

namespace mx {
namespace {

ParamList seq_params(const GradArgs& a) {
  return {{"use_sequence_length", a.params.get_bool("use_sequence_length") ? "True" : "False"},
          {"axis", std::to_string(a.params.get_int("axis"))}};
}

// ograd followed by the lengths input when the forward call used one.
std::vector<GradValue> with_lengths(const GradArgs& a, std::vector<GradValue> first, size_t len_index) {
  if (a.params.get_bool("use_sequence_length")) first.push_back(a.inputs[len_index]);
  return first;
}

// One gradient per forward input: `g` for input 0, none for the rest.
std::vector<GradValue> first_only(const GradArgs& a, GradValue g) {
  std::vector<GradValue> r(a.inputs.size());
  r[0] = g;
  return r;
}

MX_REGISTER_GRADIENT(SequenceMask, [](GradBuilder& b, const GradArgs& a) {
  ParamList pl = seq_params(a);
  pl.push_back({"value", "0"});
  return first_only(a, b.call1("SequenceMask", with_lengths(a, {a.ograds[0]}, 1), pl));
});

MX_REGISTER_GRADIENT(SequenceReverse, [](GradBuilder& b, const GradArgs& a) {
  return first_only(a, b.call1("SequenceReverse", with_lengths(a, {a.ograds[0]}, 1), seq_params(a)));
});

MX_REGISTER_GRADIENT(SequenceLast, [](GradBuilder& b, const GradArgs& a) {
  return first_only(a, b.call1("_backward_SequenceLast", with_lengths(a, {a.ograds[0], a.inputs[0]}, 1),
                               seq_params(a)));
});

MX_REGISTER_GRADIENT(_backward_SequenceLast, [](GradBuilder& b, const GradArgs& a) {
  // Linear in ograd; data only lends its shape.
  return first_only(a, b.call1("SequenceLast", with_lengths(a, {a.ograds[0]}, 2), seq_params(a)));
});

MX_REGISTER_GRADIENT(_contrib_BilinearResize2D, [](GradBuilder& b, const GradArgs& a) {
  const char* align = a.params.get_bool("align_corners") ? "True" : "False";
  std::vector<GradValue> r(a.inputs.size());  // `like` (mode 'like') only lends its shape
  r[0] = b.call1("_backward_contrib_BilinearResize2D", {a.ograds[0], a.inputs[0]}, {{"align_corners", align}});
  return r;
});

MX_REGISTER_GRADIENT(_backward_contrib_BilinearResize2D, [](GradBuilder& b, const GradArgs& a) {
  const char* align = a.params.get_bool("align_corners") ? "True" : "False";
  GradValue g = b.call1("_contrib_BilinearResize2D", {a.ograds[0], a.inputs[0]},
                        {{"mode", "like"}, {"align_corners", align}});
  return std::vector<GradValue>{g, GradValue{}};
});

}  // namespace
}  // namespace mx
