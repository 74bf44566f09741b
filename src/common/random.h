// Random: the only source of randomness (secrets, keys, ids, jitter). Tests inject a
// deterministic source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>

namespace ulak {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;

  std::string Bytes(size_t n);
  uint64_t Uint64();
  // Uniform in [0, 1).
  double Unit();
};

// Cryptographically secure randomness from OpenSSL's DRBG. Thread-safe.
class SystemRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
  static SystemRandom& Instance();
};

// A deterministic generator for tests (splitmix64). Thread-safe. Never for secrets.
class SeededRandomForTest final : public Random {
 public:
  explicit SeededRandomForTest(uint64_t seed) : state_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  uint64_t state_;
};

}  // namespace ulak
