#include "store/store.h"

#include <thread>

namespace ulak::store {

bool Store::WaitForWork(std::chrono::milliseconds timeout) {
  std::this_thread::sleep_for(timeout);
  return false;
}

}  // namespace ulak::store
