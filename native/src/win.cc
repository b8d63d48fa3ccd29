// Windows: IOCTL_SCSI_PASS_THROUGH_DIRECT on \\.\E: (the CD-ROM class driver passes it to the port driver),
// with a data buffer aligned as the adapter asks (STORAGE_ADAPTER_DESCRIPTOR.AlignmentMask);
// IOCTL_CDROM_EXCLUSIVE_ACCESS to lock the recorder while writing, under the caller name other programs show
// (IMAPI does the same); discovery of the CD/DVD/BD drives by drive letter (GetDriveType = DRIVE_CDROM) and
// IOCTL_STORAGE_QUERY_PROPERTY for vendor and model. Cannot be run on the project's Linux machines: keep it
// small, and review every change against the Windows SDK documentation of these IOCTLs.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <winioctl.h>
#include <ntddscsi.h>
#include <ntddcdrm.h>
#include <malloc.h>

// IOCTL_CDROM_EXCLUSIVE_ACCESS (Windows 7 and later, ntddcdrm.h of the Windows SDK). Older SDKs and MinGW-w64's
// headers lack it: the same definitions, from the SDK.
#ifndef IOCTL_CDROM_EXCLUSIVE_ACCESS
#define IOCTL_CDROM_EXCLUSIVE_ACCESS CTL_CODE(IOCTL_CDROM_BASE, 0x0017, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS)
#define CDROM_EXCLUSIVE_CALLER_LENGTH 64
typedef enum _EXCLUSIVE_ACCESS_REQUEST_TYPE {
  ExclusiveAccessQueryState,
  ExclusiveAccessLockDevice,
  ExclusiveAccessUnlockDevice
} EXCLUSIVE_ACCESS_REQUEST_TYPE;
typedef struct _CDROM_EXCLUSIVE_ACCESS {
  EXCLUSIVE_ACCESS_REQUEST_TYPE RequestType;
  ULONG Flags;
} CDROM_EXCLUSIVE_ACCESS;
typedef struct _CDROM_EXCLUSIVE_LOCK {
  CDROM_EXCLUSIVE_ACCESS Access;
  UCHAR CallerName[CDROM_EXCLUSIVE_CALLER_LENGTH];
} CDROM_EXCLUSIVE_LOCK;
typedef struct _CDROM_EXCLUSIVE_LOCK_STATE {
  BOOLEAN LockState;
  UCHAR CallerName[CDROM_EXCLUSIVE_CALLER_LENGTH];
} CDROM_EXCLUSIVE_LOCK_STATE;
#endif
static_assert(IOCTL_CDROM_EXCLUSIVE_ACCESS == 0x0002C05C, "IOCTL_CDROM_EXCLUSIVE_ACCESS");

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "common.h"

namespace dfscsi {

struct Device {
  HANDLE h = INVALID_HANDLE_VALUE;
  bool locked = false;
  size_t alignment = 1;  // AlignmentMask + 1
};

const char* PlatformName() { return "win32"; }
bool PassThroughSupported() { return true; }

namespace {

OsError Fail(const char* step, DWORD code, std::string detail = std::string()) {
  OsError e;
  e.step = step;
  e.code = static_cast<long>(code);
  e.detail = std::move(detail);
  return e;
}

// "E:", "e:\", "\\.\E:" and "\\.\CdRom0" -> the device name CreateFileW takes. Empty when the path is none of these.
std::wstring DevicePath(const std::string& path) {
  std::string p = path;
  if (p.size() >= 2 && p.size() <= 3 && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
      (p.size() == 2 || p[2] == '\\' || p[2] == '/')) {
    wchar_t w[7] = {L'\\', L'\\', L'.', L'\\', static_cast<wchar_t>(p[0] & ~0x20), L':', 0};
    return std::wstring(w);
  }
  if (p.size() > 4 && p.size() < 260 && p.compare(0, 4, "\\\\.\\") == 0) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, p.data(), static_cast<int>(p.size()), nullptr, 0);
    if (n <= 0) return std::wstring();
    std::wstring w(static_cast<size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, p.data(), static_cast<int>(p.size()), &w[0], n);
    return w;
  }
  return std::wstring();
}

// IOCTL_CDROM_EXCLUSIVE_ACCESS accepts only letters, digits and spaces in the caller name.
void CallerName(const std::string& holder, UCHAR out[CDROM_EXCLUSIVE_CALLER_LENGTH]) {
  std::memset(out, 0, CDROM_EXCLUSIVE_CALLER_LENGTH);
  std::string name;
  for (char c : holder) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (ok) name.push_back(c);
    else if (!name.empty() && name.back() != ' ') name.push_back(' ');
    if (name.size() >= CDROM_EXCLUSIVE_CALLER_LENGTH - 1) break;
  }
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (name.empty()) name = "DiscForge";
  std::memcpy(out, name.data(), std::min(name.size(), static_cast<size_t>(CDROM_EXCLUSIVE_CALLER_LENGTH - 1)));
}

std::string LockHolder(HANDLE h) {
  CDROM_EXCLUSIVE_ACCESS q;
  std::memset(&q, 0, sizeof q);
  q.RequestType = ExclusiveAccessQueryState;
  CDROM_EXCLUSIVE_LOCK_STATE st;
  std::memset(&st, 0, sizeof st);
  DWORD got = 0;
  if (!DeviceIoControl(h, IOCTL_CDROM_EXCLUSIVE_ACCESS, &q, sizeof q, &st, sizeof st, &got, nullptr) || !st.LockState) {
    return std::string();
  }
  size_t n = 0;
  while (n < CDROM_EXCLUSIVE_CALLER_LENGTH && st.CallerName[n]) n++;
  return std::string(reinterpret_cast<const char*>(st.CallerName), n);
}

// Adapter limits: maximum transfer and buffer alignment (IOCTL_STORAGE_QUERY_PROPERTY, StorageAdapterProperty).
void AdapterLimits(HANDLE h, uint32_t* maxTransfer, size_t* alignment) {
  *maxTransfer = kDefaultMaxTransfer;
  *alignment = 1;
  STORAGE_PROPERTY_QUERY q;
  std::memset(&q, 0, sizeof q);
  q.PropertyId = StorageAdapterProperty;
  q.QueryType = PropertyStandardQuery;
  STORAGE_ADAPTER_DESCRIPTOR d;
  std::memset(&d, 0, sizeof d);
  DWORD got = 0;
  if (!DeviceIoControl(h, IOCTL_STORAGE_QUERY_PROPERTY, &q, sizeof q, &d, sizeof d, &got, nullptr) ||
      got < offsetof(STORAGE_ADAPTER_DESCRIPTOR, AlignmentMask) + sizeof d.AlignmentMask) {
    return;
  }
  uint64_t best = d.MaximumTransferLength;
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  if (d.MaximumPhysicalPages > 1) {
    best = std::min<uint64_t>(best, static_cast<uint64_t>(d.MaximumPhysicalPages - 1) * si.dwPageSize);
  }
  if (best == 0) best = kDefaultMaxTransfer;
  *maxTransfer = static_cast<uint32_t>(std::min<uint64_t>(best, kHardMaxTransfer));
  size_t a = static_cast<size_t>(d.AlignmentMask) + 1;
  if (a > 1 && a <= 4096 && (a & (a - 1)) == 0) *alignment = a;  // a power of two, at most a page
}

struct AlignedBuffer {
  void* p = nullptr;
  AlignedBuffer(size_t size, size_t alignment) {
    if (size) p = _aligned_malloc(size, std::max<size_t>(alignment, sizeof(void*)));
  }
  ~AlignedBuffer() {
    if (p) _aligned_free(p);
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
};

struct SptdWithSense {
  SCSI_PASS_THROUGH_DIRECT sptd;
  ULONG filler;  // realigns the sense buffer
  UCHAR sense[kSenseBytes];
};

}  // namespace

bool Open(const std::string& path, const OpenOptions& opts, Device** out, uint32_t* maxTransfer, OsError* err) {
  *out = nullptr;
  std::wstring dev = DevicePath(path);
  if (dev.empty()) {
    *err = Fail("open", ERROR_INVALID_NAME, "not a drive (E:, \\\\.\\E: or \\\\.\\CdRomN)");
    return false;
  }
  HANDLE h = CreateFileW(dev.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    *err = Fail("CreateFile", GetLastError());
    return false;
  }
  Device* d = new Device();
  d->h = h;
  AdapterLimits(h, maxTransfer, &d->alignment);
  if (opts.exclusive) {
    CDROM_EXCLUSIVE_LOCK lock;
    std::memset(&lock, 0, sizeof lock);
    lock.Access.RequestType = ExclusiveAccessLockDevice;
    lock.Access.Flags = 0;
    CallerName(opts.holder, lock.CallerName);
    DWORD got = 0;
    if (!DeviceIoControl(h, IOCTL_CDROM_EXCLUSIVE_ACCESS, &lock, sizeof lock, nullptr, 0, &got, nullptr)) {
      DWORD e = GetLastError();
      std::string holder = LockHolder(h);
      CloseHandle(h);
      delete d;
      if (!holder.empty()) *err = Fail("DeviceIoControl(IOCTL_CDROM_EXCLUSIVE_ACCESS)", ERROR_BUSY, "locked by " + holder);
      else *err = Fail("DeviceIoControl(IOCTL_CDROM_EXCLUSIVE_ACCESS)", e);
      return false;
    }
    d->locked = true;
  }
  *out = d;
  return true;
}

bool Execute(Device* dev, const Request& req, Result* res, OsError* err) {
  if (!dev || dev->h == INVALID_HANDLE_VALUE) {
    *err = Fail("DeviceIoControl(IOCTL_SCSI_PASS_THROUGH_DIRECT)", ERROR_INVALID_HANDLE);
    return false;
  }
  const size_t cdbLen = req.cdb.size();
  if (cdbLen < kMinCdb || cdbLen > kMaxCdb) {  // checked by addon.cc too: never copy more than Cdb[16] holds
    *err = Fail("DeviceIoControl(IOCTL_SCSI_PASS_THROUGH_DIRECT)", ERROR_INVALID_PARAMETER, "CDB length");
    return false;
  }
  size_t len = req.direction == Direction::In ? req.inLength : req.direction == Direction::Out ? req.out.size() : 0;
  if (len > kHardMaxTransfer) {
    *err = Fail("DeviceIoControl(IOCTL_SCSI_PASS_THROUGH_DIRECT)", ERROR_INVALID_PARAMETER, "transfer length");
    return false;
  }
  AlignedBuffer buf(len, dev->alignment);
  if (len && !buf.p) {
    *err = Fail("_aligned_malloc", ERROR_NOT_ENOUGH_MEMORY);
    return false;
  }
  if (len) {
    if (req.direction == Direction::Out) std::memcpy(buf.p, req.out.data(), len);
    else std::memset(buf.p, 0, len);
  }
  SptdWithSense s;
  std::memset(&s, 0, sizeof s);
  s.sptd.Length = sizeof(SCSI_PASS_THROUGH_DIRECT);
  s.sptd.CdbLength = static_cast<UCHAR>(cdbLen);
  s.sptd.SenseInfoLength = static_cast<UCHAR>(kSenseBytes);
  s.sptd.SenseInfoOffset = static_cast<ULONG>(offsetof(SptdWithSense, sense));
  s.sptd.DataIn = len == 0 ? SCSI_IOCTL_DATA_UNSPECIFIED
                  : req.direction == Direction::In ? SCSI_IOCTL_DATA_IN
                                                   : SCSI_IOCTL_DATA_OUT;
  s.sptd.DataTransferLength = static_cast<ULONG>(len);
  s.sptd.DataBuffer = buf.p;
  s.sptd.TimeOutValue = std::max<ULONG>(1, static_cast<ULONG>((req.timeoutMs + 999) / 1000));  // seconds
  std::memcpy(s.sptd.Cdb, req.cdb.data(), cdbLen);

  DWORD got = 0;
  auto t0 = std::chrono::steady_clock::now();
  BOOL ok = DeviceIoControl(dev->h, IOCTL_SCSI_PASS_THROUGH_DIRECT, &s, sizeof s, &s, sizeof s, &got, nullptr);
  DWORD e = ok ? 0 : GetLastError();
  auto t1 = std::chrono::steady_clock::now();
  res->durationMs = std::chrono::duration<double, std::milli>(t1 - t0).count();
  if (!ok) {
    *err = Fail("DeviceIoControl(IOCTL_SCSI_PASS_THROUGH_DIRECT)", e);
    return false;
  }
  res->status = s.sptd.ScsiStatus;
  if (s.sptd.ScsiStatus != 0) {
    size_t n = std::min<size_t>(s.sptd.SenseInfoLength, kSenseBytes);
    res->sense.assign(s.sense, s.sense + n);
  }
  size_t done = std::min<size_t>(s.sptd.DataTransferLength, len);  // the port driver sets the bytes moved
  res->residual = static_cast<int64_t>(len - done);
  if (req.direction == Direction::In && done) {
    const uint8_t* p = static_cast<const uint8_t*>(buf.p);
    res->data.assign(p, p + done);
  }
  return true;
}

bool Close(Device* dev, OsError* err) {
  if (!dev) return true;
  bool ok = true;
  if (dev->locked) {
    CDROM_EXCLUSIVE_ACCESS a;
    std::memset(&a, 0, sizeof a);
    a.RequestType = ExclusiveAccessUnlockDevice;
    DWORD got = 0;
    if (!DeviceIoControl(dev->h, IOCTL_CDROM_EXCLUSIVE_ACCESS, &a, sizeof a, nullptr, 0, &got, nullptr)) {
      *err = Fail("DeviceIoControl(IOCTL_CDROM_EXCLUSIVE_ACCESS)", GetLastError());
      ok = false;
    }
    dev->locked = false;
  }
  if (dev->h != INVALID_HANDLE_VALUE && !CloseHandle(dev->h) && ok) {
    *err = Fail("CloseHandle", GetLastError());
    ok = false;
  }
  dev->h = INVALID_HANDLE_VALUE;
  delete dev;
  return ok;
}

bool List(std::vector<DeviceInfo>* out, OsError* err) {
  (void)err;
  DWORD mask = GetLogicalDrives();
  for (int i = 0; i < 26; i++) {
    if (!(mask & (1u << i))) continue;
    wchar_t root[4] = {static_cast<wchar_t>(L'A' + i), L':', L'\\', 0};
    if (GetDriveTypeW(root) != DRIVE_CDROM) continue;
    DeviceInfo d;
    d.path = std::string(1, static_cast<char>('A' + i)) + ":";
    d.type = 5;
    wchar_t dev[7] = {L'\\', L'\\', L'.', L'\\', static_cast<wchar_t>(L'A' + i), L':', 0};
    // Access 0: a query needs no read or write access (and no administrator).
    HANDLE h = CreateFileW(dev, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, 0, nullptr);
    if (h != INVALID_HANDLE_VALUE) {
      STORAGE_PROPERTY_QUERY q;
      std::memset(&q, 0, sizeof q);
      q.PropertyId = StorageDeviceProperty;
      q.QueryType = PropertyStandardQuery;
      alignas(8) unsigned char buf[1024];
      std::memset(buf, 0, sizeof buf);
      DWORD got = 0;
      if (DeviceIoControl(h, IOCTL_STORAGE_QUERY_PROPERTY, &q, sizeof q, buf, sizeof buf, &got, nullptr) &&
          got >= sizeof(STORAGE_DEVICE_DESCRIPTOR) && got <= sizeof buf) {
        const STORAGE_DEVICE_DESCRIPTOR* sd = reinterpret_cast<const STORAGE_DEVICE_DESCRIPTOR*>(buf);
        auto text = [&](DWORD off) {
          if (off == 0 || off >= got) return std::string();
          size_t n = 0;
          while (off + n < got && buf[off + n]) n++;  // bounded by what the driver returned
          std::string s(reinterpret_cast<const char*>(buf + off), n);
          while (!s.empty() && s.back() == ' ') s.pop_back();
          size_t b = 0;
          while (b < s.size() && s[b] == ' ') b++;
          return s.substr(b);
        };
        d.vendor = text(sd->VendorIdOffset);
        d.model = text(sd->ProductIdOffset);
        d.revision = text(sd->ProductRevisionOffset);
      }
      CloseHandle(h);
    }
    d.name = d.vendor.empty() ? d.model : d.model.empty() ? d.vendor : d.vendor + " " + d.model;
    if (d.name.empty()) d.name = d.path;
    out->push_back(d);
  }
  return true;
}

std::string ErrorName(long code) {
  switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return "ENOENT";
    case ERROR_ACCESS_DENIED: return "EACCES";
    case ERROR_INVALID_HANDLE: return "EBADF";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: return "ENOMEM";
    case ERROR_NOT_READY: return "ENOMEDIUM";
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_BUSY: return "EBUSY";
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION: return "ENOTSUP";
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME: return "EINVAL";
    case ERROR_SEM_TIMEOUT:
    case ERROR_TIMEOUT: return "ETIMEDOUT";
    case ERROR_IO_DEVICE:
    case ERROR_CRC: return "EIO";
    case ERROR_DEV_NOT_EXIST:
    case ERROR_DEVICE_NOT_CONNECTED: return "ENODEV";
    case ERROR_INSUFFICIENT_BUFFER: return "ENOBUFS";
    case ERROR_WRITE_PROTECT: return "EROFS";
    default: return "EWIN" + std::to_string(code);
  }
}

std::string ErrorText(long code) {
  char buf[512];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, static_cast<DWORD>(code),
                           MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), buf, sizeof buf, nullptr);
  std::string s = n ? std::string(buf, n) : "Windows error " + std::to_string(code);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '.')) s.pop_back();
  return s;
}

}  // namespace dfscsi
