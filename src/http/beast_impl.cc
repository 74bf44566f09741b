// Beast is built with BOOST_BEAST_SEPARATE_COMPILATION, so its out-of-line code is compiled
// once, here; only http/ uses Beast. Asio's is in third_party/boost_asio/asio_impl.cc, which
// delivery/ (the curl loop) links too.
#include <boost/beast/src.hpp>
