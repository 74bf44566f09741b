// Boost.JSON compiled from its headers into the fuzz build, so the JSON parser the JWS and
// body readers rely on is coverage-instrumented along with our code.
#include <boost/json/src.hpp>
