// SPDX-License-Identifier: MIT
// The whole public C++ API of wharf.
#pragma once

#include "wharf/address.hpp"
#include "wharf/compress.hpp"
#include "wharf/error.hpp"
#include "wharf/filter.hpp"
#include "wharf/headers.hpp"
#include "wharf/method.hpp"
#include "wharf/negotiate.hpp"
#include "wharf/request.hpp"
#include "wharf/response.hpp"
#include "wharf/router.hpp"
#include "wharf/server.hpp"
#include "wharf/session.hpp"
#include "wharf/static_files.hpp"
#include "wharf/status.hpp"
#include "wharf/task.hpp"
#include "wharf/thread_pool.hpp"
#include "wharf/upgrade.hpp"
#include "wharf/version.hpp"
#include "wharf/websocket.hpp"
