// The platform layer of the DiscForge SCSI pass-through addon: what linux.cc and win.cc (and other.cc on
// platforms without pass-through) implement, and what addon.cc (the only file that knows Node-API) calls.
//
// Everything here runs on a worker thread (a Napi::AsyncWorker), one call at a time per device: no function
// touches JavaScript values, none throws. Failures are returned as OsError { step, code }: the step names the
// system call (open, ioctl(SG_IO), DeviceIoControl(IOCTL_SCSI_PASS_THROUGH_DIRECT), …) and the code is the OS
// error number (errno on Linux, GetLastError() on Windows). No CDB is built or decoded here: the bytes come
// from TypeScript and go back to it as they are.
#ifndef DISCFORGE_SCSI_COMMON_H
#define DISCFORGE_SCSI_COMMON_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dfscsi {

// Limits checked (in addon.cc) before anything is copied or sent.
constexpr size_t kMinCdb = 6;
constexpr size_t kMaxCdb = 16;                       // sg v3 cmd_len and SCSI_PASS_THROUGH_DIRECT.Cdb[16]
constexpr size_t kSenseBytes = 96;                   // the sense buffer handed to the OS (SPC-4 allows 252)
constexpr uint32_t kHardMaxTransfer = 16u << 20;     // never more than 16 MiB in one command, whatever the OS says
constexpr uint32_t kDefaultMaxTransfer = 64u << 10;  // when the OS does not tell
constexpr uint32_t kMaxTimeoutMs = 4u * 3600u * 1000u;  // 4 hours (a full format of a BD-RE may take one)
constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxQueued = 256;                   // commands waiting on one handle

enum class Direction { None = 0, In = 1, Out = 2 };

struct OsError {
  std::string step;    // e.g. "open", "ioctl(SG_IO)"
  long code = 0;       // errno / GetLastError(); 0 = no OS error (then `detail` says what went wrong)
  std::string detail;  // extra words for the message (optional)
};

struct DeviceInfo {
  std::string path;     // what open() takes: /dev/sr0, /dev/sg1, E:
  std::string name;     // "VENDOR MODEL" as the device reports it
  std::string vendor;
  std::string model;
  std::string revision;
  int type = 5;         // SCSI peripheral device type (5 = CD/DVD/BD, MMC)
  std::string sg;       // Linux: the SCSI generic node of the same device, if any
  std::string block;    // Linux: the block node (/dev/srN) of the same device, if any
};

struct Request {
  std::vector<uint8_t> cdb;
  Direction direction = Direction::None;
  std::vector<uint8_t> out;  // data-out bytes (a copy: JavaScript may change its buffer meanwhile)
  uint32_t inLength = 0;     // data-in allocation length
  uint32_t timeoutMs = 0;
};

struct Result {
  uint8_t status = 0;             // SCSI status byte
  std::vector<uint8_t> sense;     // only the bytes the device returned
  std::vector<uint8_t> data;      // data-in, as many bytes as were transferred
  int64_t residual = 0;           // requested - transferred
  uint32_t hostStatus = 0;        // Linux sg_io_hdr host_status; Windows: 0
  uint32_t driverStatus = 0;      // Linux sg_io_hdr driver_status; Windows: 0
  double durationMs = 0;
};

// One open device. Created by Open(), used by one worker at a time, destroyed by Close().
struct Device;

struct OpenOptions {
  bool exclusive = false;
  std::string holder;  // Windows: the caller name of IOCTL_CDROM_EXCLUSIVE_ACCESS (sanitized there)
};

// Opens `path`. On success *out owns the device and *maxTransfer is the largest data transfer (bytes) of one
// command on it (already clamped to kHardMaxTransfer).
bool Open(const std::string& path, const OpenOptions& opts, Device** out, uint32_t* maxTransfer, OsError* err);
// Sends one command. Returns false only when the command could not be delivered (the OS call failed);
// a CHECK CONDITION is a successful delivery with res->status == 2.
bool Execute(Device* dev, const Request& req, Result* res, OsError* err);
// Releases the device (drops the exclusive lock, closes the handle). Never fails from the caller's view;
// a failure of the OS close is reported in *err (the device is gone either way).
bool Close(Device* dev, OsError* err);
// Optical drives of this machine.
bool List(std::vector<DeviceInfo>* out, OsError* err);

// "ENOENT", "EBUSY", … for an OS error code ("EWIN<n>" / "E<n>" when unknown), and its text.
std::string ErrorName(long code);
std::string ErrorText(long code);
// The platform name for messages ("linux", "win32", …).
const char* PlatformName();
// Whether this build can reach devices at all (false on macOS and others).
bool PassThroughSupported();

}  // namespace dfscsi

#endif  // DISCFORGE_SCSI_COMMON_H
