#include "store/postgres/pg_columns.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ulak::store::postgres {
namespace {

// The literals PostgreSQL's array input reads back as the values written (checked against a
// server by the conformance suite: tests/store/postgres_conformance_test.cc).
TEST(PgColumnsTest, EachColumnIsOneArrayLiteralWithItsValuesEscaped) {
  PgColumns c(4);
  c.Text("a\"b\\c,{d}").Int(-42).Bool(true).Bytes(std::string("\0\xff", 2));
  c.EndRow();
  c.Null().Int(7).Bool(false).Bytes("");
  c.EndRow();
  EXPECT_EQ(c.rows(), 2);
  EXPECT_EQ(c.Literal(0), R"({"a\"b\\c,{d}",NULL})");
  EXPECT_EQ(c.Literal(1), "{-42,7}");
  EXPECT_EQ(c.Literal(2), "{t,f}");
  EXPECT_EQ(c.Literal(3), R"({"\\x00ff","\\x"})");
  Params p;
  c.AddTo(p);
  ASSERT_EQ(p.size(), 4);
  PgColumns empty(1);
  EXPECT_EQ(empty.Literal(0), "{}");
}

TEST(PgColumnsTest, WritingMoreValuesThanColumnsIsCaught) {
  PgColumns c(1);
  c.Int(1);
  EXPECT_THROW(c.Int(2), std::out_of_range);
}

}  // namespace
}  // namespace ulak::store::postgres
