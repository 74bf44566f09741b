// Asio and Beast are built with *_SEPARATE_COMPILATION, so their out-of-line code is compiled once, here.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
