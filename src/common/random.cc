#include "common/random.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace ulak {

std::string Random::Bytes(size_t n) {
  std::string out(n, '\0');
  Fill({reinterpret_cast<uint8_t*>(out.data()), n});
  return out;
}

uint64_t Random::Uint64() {
  uint64_t v = 0;
  Fill({reinterpret_cast<uint8_t*>(&v), sizeof v});
  return v;
}

double Random::Unit() { return static_cast<double>(Uint64() >> 11) * 0x1.0p-53; }

void SystemRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  // RAND_bytes fails only if the OS entropy source is broken; continuing would hand out
  // predictable secrets, so this is one of the few places that aborts.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

SystemRandom& SystemRandom::Instance() {
  static SystemRandom random;
  return random;
}

void SeededRandomForTest::Fill(std::span<uint8_t> out) {
  std::lock_guard lock(mu_);
  size_t i = 0;
  while (i < out.size()) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const size_t n = std::min(sizeof z, out.size() - i);
    std::memcpy(out.data() + i, &z, n);
    i += n;
  }
}

}  // namespace ulak
