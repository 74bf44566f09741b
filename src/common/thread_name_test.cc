#include "common/thread_name.h"

#include <pthread.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace ulak {
namespace {

std::string NameOfThisThread() {
  char buf[64] = {};
  pthread_getname_np(pthread_self(), buf, sizeof buf);
  return buf;
}

TEST(ThreadName, NamesTheCallingThreadAndCutsAt15Bytes) {
  std::string short_name, long_name;
  std::thread([&] {
    SetCurrentThreadName("ulak-test");
    short_name = NameOfThisThread();
    SetCurrentThreadName("ulak-a-name-longer-than-fifteen");
    long_name = NameOfThisThread();
  }).join();
  EXPECT_EQ(short_name, "ulak-test");
  EXPECT_EQ(long_name, "ulak-a-name-lon");
}

}  // namespace
}  // namespace ulak
