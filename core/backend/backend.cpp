#include "backend/backend.h"

namespace streams {

Backend::~Backend() = default;

} // namespace streams
