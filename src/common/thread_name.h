// Names the calling thread, so profilers, gdb and /proc/PID/task/*/comm tell ulak's threads
// apart (bench/run.sh splits the context switches per delivered event by this name).
#pragma once

#include <string_view>

namespace ulak {

// Linux keeps at most 15 bytes of a thread's name; a longer one is cut there. Best effort:
// failure is ignored (a name is a debugging aid, never a contract).
void SetCurrentThreadName(std::string_view name);

}  // namespace ulak
