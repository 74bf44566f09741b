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

namespace {

// RAND_bytes fails only if the OS entropy source is broken; continuing would hand out
// predictable secrets, so this is one of the few places that aborts.
void DrawOrDie(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

}  // namespace

void SystemRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  // Small draws (ids: 16 bytes per object) come from a per-thread buffer of DRBG output
  // refilled 4 KiB at a time: one RAND_bytes call (and its fork check) per 256 ids instead
  // of one each. The bytes are the same CSPRNG output either way.
  constexpr size_t kBuffer = 4096;
  thread_local uint8_t buffer[kBuffer];
  thread_local size_t available = 0;
  if (out.size() > kBuffer / 8) {
    DrawOrDie(out.data(), out.size());
    return;
  }
  if (available < out.size()) {
    DrawOrDie(buffer, kBuffer);
    available = kBuffer;
  }
  uint8_t* from = buffer + (kBuffer - available);
  std::memcpy(out.data(), from, out.size());
  std::memset(from, 0, out.size());  // handed out once: never again, not even from memory
  available -= out.size();
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
