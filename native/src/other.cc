// Platforms without SCSI pass-through in DiscForge (macOS and the rest): the addon loads, lists no drives and
// refuses to open any. On macOS, optical drives are reached through IOKit's SCSITaskAuthoringDevice, which
// needs exclusive access negotiated with the DiscRecording framework; DiscForge does not do that (see
// native/README.md): virtual recorders and image building work there.
#include "common.h"

#include <cerrno>
#include <cstring>

namespace dfscsi {

struct Device {};

#if defined(__APPLE__)
const char* PlatformName() { return "darwin"; }
#else
const char* PlatformName() { return "this platform"; }
#endif
bool PassThroughSupported() { return false; }

bool Open(const std::string&, const OpenOptions&, Device** out, uint32_t*, OsError* err) {
  *out = nullptr;
  err->step = "open";
  err->code = 0;
  err->detail = std::string("SCSI pass-through is not supported on ") + PlatformName();
  return false;
}

bool Execute(Device*, const Request&, Result*, OsError* err) {
  err->step = "execute";
  err->detail = "SCSI pass-through is not supported";
  return false;
}

bool Close(Device* dev, OsError*) {
  delete dev;
  return true;
}

bool List(std::vector<DeviceInfo>*, OsError*) { return true; }

std::string ErrorName(long code) { return "E" + std::to_string(code); }
std::string ErrorText(long code) { return std::strerror(static_cast<int>(code)); }

}  // namespace dfscsi
