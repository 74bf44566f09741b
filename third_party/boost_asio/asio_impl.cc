// Asio is built with BOOST_ASIO_SEPARATE_COMPILATION, so its out-of-line code is compiled
// once, here, into the `ulak_asio` library that http/ (the server) and delivery/ (the curl
// loop) both link.
#include <boost/asio/impl/src.hpp>
