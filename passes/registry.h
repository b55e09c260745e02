// Registers every pass of //passes:all with make_pass(). An explicit call rather than static initialisers,
// which the linker may drop.
#pragma once

namespace stratum {

// Safe to call more than once.
void register_all_passes();

}  // namespace stratum
