// Typed node attributes: int, float, list of ints, string, bool.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace stratum {

enum class AttrKind { kInt, kFloat, kInts, kString, kBool };  // the variant's index order

using Ints = std::vector<int64_t>;
using Attr = std::variant<int64_t, double, Ints, std::string, bool>;
using Attrs = std::map<std::string, Attr>;

inline AttrKind attr_kind(const Attr& attr) { return static_cast<AttrKind>(attr.index()); }
const char* attr_kind_name(AttrKind kind);

// The text form: 3, 0.5, [1,2], "xavier", true. Floats always carry a '.' or an exponent, and print the
// shortest text that reads back to the same double.
std::string attr_str(const Attr& attr);

}  // namespace stratum
