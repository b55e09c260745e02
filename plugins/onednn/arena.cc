#include "plugins/onednn/arena.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace stratum::onednn {

void Arena::plan() {
  plan_.place();
  memory_.reset(static_cast<char*>(std::aligned_alloc(kAlignment, bytes())));
  if (!memory_) throw std::bad_alloc();
  std::memset(memory_.get(), 0, bytes());
}

}  // namespace stratum::onednn
