// Linux: SG_IO (the sg v3 interface, struct sg_io_hdr) on /dev/sr* (SCSI CD-ROM block devices, through the block
// layer's SG_IO) and /dev/sg* (SCSI generic). Discovery through /sys/class/block and /sys/class/scsi_generic
// (peripheral device type 5 = MMC). See sg(4)'s "SG_IO" and the kernel's Documentation/scsi/scsi-generic.rst.
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>  // BLKSECTGET
#include <scsi/sg.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace dfscsi {

struct Device {
  int fd = -1;
  std::string path;
};

const char* PlatformName() { return "linux"; }
bool PassThroughSupported() { return true; }

namespace {

OsError Fail(const char* step, int code, std::string detail = std::string()) {
  OsError e;
  e.step = step;
  e.code = code;
  e.detail = std::move(detail);
  return e;
}

// The first line of a small sysfs file, without trailing blanks; "" when it cannot be read.
std::string ReadSysfs(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::string();
  while (!line.empty() && (line.back() == ' ' || line.back() == '\n' || line.back() == '\r' || line.back() == '\t')) {
    line.pop_back();
  }
  size_t start = 0;
  while (start < line.size() && line[start] == ' ') start++;
  return line.substr(start);
}

long ReadSysfsNumber(const std::string& file) {
  std::string s = ReadSysfs(file);
  if (s.empty() || s.size() > 18) return -1;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    // sr2 before sr10: by length, then by name
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return names;
}

// Largest data transfer of one SG_IO on this device, in bytes.
uint32_t MaxTransfer(int fd, const struct stat& st) {
  uint64_t best = 0;
  auto consider = [&best](uint64_t v) {
    if (v > 0 && (best == 0 || v < best)) best = v;
  };
  char sys[96];
  if (S_ISBLK(st.st_mode)) {
    // The block layer's SG_IO refuses transfers above max_hw_sectors, and maps the user pages directly:
    // one segment per page in the worst case (max_segments).
    snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u/queue/", major(st.st_rdev), minor(st.st_rdev));
    long kb = ReadSysfsNumber(std::string(sys) + "max_hw_sectors_kb");
    if (kb > 0) consider(static_cast<uint64_t>(kb) * 1024);
    long segs = ReadSysfsNumber(std::string(sys) + "max_segments");
    long page = sysconf(_SC_PAGESIZE);
    if (segs > 0 && page > 0) consider(static_cast<uint64_t>(segs) * static_cast<uint64_t>(page));
  } else {
    // sg: BLKSECTGET gives the request queue's max_sectors in bytes (sg.c), the same limit the block node has.
    int bytes = 0;
    if (ioctl(fd, BLKSECTGET, &bytes) == 0 && bytes > 0) consider(static_cast<uint64_t>(bytes));
    snprintf(sys, sizeof sys, "/sys/dev/char/%u:%u/device/block/", major(st.st_rdev), minor(st.st_rdev));
    for (const std::string& b : ListDir(sys)) {
      long kb = ReadSysfsNumber(std::string(sys) + b + "/queue/max_hw_sectors_kb");
      if (kb > 0) consider(static_cast<uint64_t>(kb) * 1024);
    }
  }
  if (best == 0) best = kDefaultMaxTransfer;
  if (best > kHardMaxTransfer) best = kHardMaxTransfer;
  return static_cast<uint32_t>(best);
}

}  // namespace

bool Open(const std::string& path, const OpenOptions& opts, Device** out, uint32_t* maxTransfer, OsError* err) {
  *out = nullptr;
  // O_NONBLOCK: open a CD-ROM without a disc (cdrom_open skips the media check) and get EBUSY at once from sg
  // instead of waiting for another exclusive user. O_EXCL: exclusive use (sg: no other opener at all; block
  // devices: no other exclusive opener and no mount).
  int flags = O_RDWR | O_NONBLOCK | O_CLOEXEC | (opts.exclusive ? O_EXCL : 0);
  int fd = open(path.c_str(), flags);
  if (fd < 0 && !opts.exclusive && (errno == EROFS || errno == EACCES)) {
    fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // read-only access is enough to query a drive
  }
  if (fd < 0) {
    *err = Fail("open", errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *err = Fail("fstat", errno);
    close(fd);
    return false;
  }
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
    *err = Fail("open", ENOTTY, "not a device");
    close(fd);
    return false;
  }
  // Both sg and the block layer answer SG_GET_VERSION_NUM; anything else is no SCSI device.
  int version = 0;
  if (ioctl(fd, SG_GET_VERSION_NUM, &version) != 0) {
    *err = Fail("ioctl(SG_GET_VERSION_NUM)", errno, "not a SCSI device (no SG_IO)");
    close(fd);
    return false;
  }
  if (version < 30000) {
    *err = Fail("ioctl(SG_GET_VERSION_NUM)", 0, "the sg driver is older than version 3");
    close(fd);
    return false;
  }
  Device* dev = new Device();
  dev->fd = fd;
  dev->path = path;
  *maxTransfer = MaxTransfer(fd, st);
  *out = dev;
  return true;
}

bool Execute(Device* dev, const Request& req, Result* res, OsError* err) {
  if (!dev || dev->fd < 0) {
    *err = Fail("ioctl(SG_IO)", EBADF);
    return false;
  }
  unsigned char cdb[kMaxCdb];
  unsigned char sense[kSenseBytes];
  const size_t cdbLen = req.cdb.size();
  if (cdbLen < kMinCdb || cdbLen > kMaxCdb) {  // checked by addon.cc too: never copy more than the array holds
    *err = Fail("ioctl(SG_IO)", EINVAL, "CDB length");
    return false;
  }
  memcpy(cdb, req.cdb.data(), cdbLen);
  memset(sense, 0, sizeof sense);

  sg_io_hdr_t h;
  memset(&h, 0, sizeof h);
  h.interface_id = 'S';
  h.cmd_len = static_cast<unsigned char>(cdbLen);
  h.cmdp = cdb;
  h.mx_sb_len = static_cast<unsigned char>(sizeof sense);
  h.sbp = sense;
  h.timeout = req.timeoutMs;  // milliseconds
  switch (req.direction) {
    case Direction::None:
      h.dxfer_direction = SG_DXFER_NONE;
      break;
    case Direction::In:
      res->data.assign(req.inLength, 0);  // zeroed: nothing of the heap leaks if a driver misreports resid
      h.dxfer_direction = req.inLength ? SG_DXFER_FROM_DEV : SG_DXFER_NONE;
      h.dxfer_len = req.inLength;
      h.dxferp = req.inLength ? res->data.data() : nullptr;
      break;
    case Direction::Out:
      h.dxfer_direction = req.out.empty() ? SG_DXFER_NONE : SG_DXFER_TO_DEV;
      h.dxfer_len = static_cast<unsigned int>(req.out.size());
      // SG_IO only reads a data-out buffer; the cast drops const for the C struct.
      h.dxferp = req.out.empty() ? nullptr : const_cast<uint8_t*>(req.out.data());
      break;
  }

  // Signals go to other threads while this one waits in SG_IO: an interrupted SG_IO cannot be repeated safely
  // (a WRITE might run twice), so it must not be interrupted.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  auto t0 = std::chrono::steady_clock::now();
  int r = ioctl(dev->fd, SG_IO, &h);
  int e = errno;
  auto t1 = std::chrono::steady_clock::now();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  res->durationMs = std::chrono::duration<double, std::milli>(t1 - t0).count();
  if (r < 0) {
    res->data.clear();
    *err = Fail("ioctl(SG_IO)", e);
    return false;
  }
  res->status = h.status;
  res->hostStatus = h.host_status;
  res->driverStatus = h.driver_status;
  size_t senseLen = std::min<size_t>(h.sb_len_wr, sizeof sense);
  res->sense.assign(sense, sense + senseLen);
  const int64_t requested = static_cast<int64_t>(h.dxfer_len);
  int64_t resid = h.resid;
  if (resid < 0 || resid > requested) resid = resid < 0 ? 0 : requested;  // never trust it past the buffer
  res->residual = resid;
  if (req.direction == Direction::In) res->data.resize(static_cast<size_t>(requested - resid));
  return true;
}

bool Close(Device* dev, OsError* err) {
  if (!dev) return true;
  bool ok = true;
  if (dev->fd >= 0 && close(dev->fd) != 0) {
    *err = Fail("close", errno);
    ok = false;
  }
  dev->fd = -1;
  delete dev;
  return ok;
}

bool List(std::vector<DeviceInfo>* out, OsError* err) {
  (void)err;  // a missing /sys class is an empty list, not an error
  auto fill = [](DeviceInfo* d, const std::string& devdir) {
    d->vendor = ReadSysfs(devdir + "/vendor");
    d->model = ReadSysfs(devdir + "/model");
    d->revision = ReadSysfs(devdir + "/rev");
    d->name = d->vendor.empty() ? d->model : d->model.empty() ? d->vendor : d->vendor + " " + d->model;
  };
  // Block devices first (/dev/srN): what users know.
  for (const std::string& n : ListDir("/sys/class/block")) {
    const std::string devdir = "/sys/class/block/" + n + "/device";
    if (ReadSysfsNumber(devdir + "/type") != 5) continue;
    DeviceInfo d;
    d.path = "/dev/" + n;
    d.block = d.path;
    d.type = 5;
    fill(&d, devdir);
    std::vector<std::string> sg = ListDir(devdir + "/scsi_generic");
    if (!sg.empty()) d.sg = "/dev/" + sg[0];
    out->push_back(d);
  }
  // SCSI generic nodes of MMC devices without a block node (sr_mod not loaded, or no block driver bound).
  for (const std::string& n : ListDir("/sys/class/scsi_generic")) {
    const std::string devdir = "/sys/class/scsi_generic/" + n + "/device";
    if (ReadSysfsNumber(devdir + "/type") != 5) continue;
    const std::string path = "/dev/" + n;
    bool known = false;
    for (const DeviceInfo& d : *out) known = known || d.sg == path;
    if (known) continue;
    DeviceInfo d;
    d.path = path;
    d.sg = path;
    d.type = 5;
    fill(&d, devdir);
    out->push_back(d);
  }
  return true;
}

std::string ErrorName(long code) {
  switch (code) {
#define DF_E(x) case x: return #x;
    DF_E(EPERM) DF_E(ENOENT) DF_E(EINTR) DF_E(EIO) DF_E(ENXIO) DF_E(E2BIG) DF_E(EBADF) DF_E(EAGAIN)
    DF_E(ENOMEM) DF_E(EACCES) DF_E(EFAULT) DF_E(EBUSY) DF_E(EEXIST) DF_E(ENODEV) DF_E(ENOTDIR) DF_E(EISDIR)
    DF_E(EINVAL) DF_E(ENFILE) DF_E(EMFILE) DF_E(ENOTTY) DF_E(ETXTBSY) DF_E(ENOSPC) DF_E(EROFS) DF_E(ERANGE)
    DF_E(ENAMETOOLONG) DF_E(ENOSYS) DF_E(ELOOP) DF_E(EOVERFLOW) DF_E(EOPNOTSUPP) DF_E(ETIMEDOUT)
    DF_E(ENOMEDIUM) DF_E(EMEDIUMTYPE) DF_E(ENOBUFS) DF_E(ECANCELED) DF_E(EREMOTEIO) DF_E(ENOLINK)
#undef DF_E
    default: return "E" + std::to_string(code);
  }
}

std::string ErrorText(long code) {
  char buf[256];
  buf[0] = 0;
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  const char* s = strerror_r(static_cast<int>(code), buf, sizeof buf);  // GNU: may return a static string
  return s ? std::string(s) : std::string();
#else
  if (strerror_r(static_cast<int>(code), buf, sizeof buf) != 0) return "error " + std::to_string(code);
  return std::string(buf);
#endif
}

}  // namespace dfscsi
