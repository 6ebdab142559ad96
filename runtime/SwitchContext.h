// The fiber switch (SwitchContext.S): Boost.Context's jump_fcontext, leaving by
// `ret`. Contexts made by make_fcontext, and saved by either routine, work with both.
#pragma once

#include <boost/context/detail/fcontext.hpp>

extern "C" boost::context::detail::transfer_t signet_switch_context(boost::context::detail::fcontext_t to, void* data);
