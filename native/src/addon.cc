// The Node-API surface of the DiscForge SCSI pass-through addon (node-addon-api, ABI-stable: one binary works
// with every Node.js and Electron of the same platform). Four functions, each checking its arguments before
// anything is copied and running the blocking part on a worker thread (Napi::AsyncWorker):
//
//   open(path, { exclusive, holder? }) -> Promise<Handle>   Handle: { path, maxTransferBytes, exclusive }
//   execute(handle, cdb, direction, bufferOrLength, timeoutMs)
//                                     -> Promise<{ status, sense, data, residual, hostStatus, driverStatus, durationMs }>
//   close(handle)                     -> Promise<void>   (after the commands already queued on the handle)
//   list()                            -> Promise<[{ path, name, vendor, model, revision, type, sg?, block? }]>
//
// Commands on one handle run one after another (a serial queue per handle, kept on the JavaScript thread: only
// one worker per handle is ever queued to the thread pool). A CHECK CONDITION resolves (status 2 with sense);
// only an OS failure rejects, with an Error carrying { code: "EBUSY"…, errno, step, syscall, path }.
// Wrong arguments throw TypeError / RangeError synchronously (code ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE
// / ERR_OUT_OF_RANGE); a closed handle rejects with code ERR_SCSI_CLOSED.
#include <napi.h>

#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "common.h"

namespace dfscsi {
namespace {

// Tags the handle objects this addon made: a look-alike object is refused before it is unwrapped.
const napi_type_tag kHandleTag = {0x6469736366726f67ULL, 0x65736373692d6831ULL};

Napi::Error MakeOsError(Napi::Env env, const OsError& e, const std::string& path) {
  std::string msg = e.step;
  if (!path.empty()) msg += " " + path;
  msg += ": ";
  if (e.code != 0) {
    msg += ErrorText(e.code) + " (" + ErrorName(e.code) + ")";
    if (!e.detail.empty()) msg += ": " + e.detail;
  } else {
    msg += e.detail.empty() ? std::string("failed") : e.detail;
  }
  Napi::Error err = Napi::Error::New(env, msg);
  Napi::Object o = err.Value();
  o.Set("code", e.code != 0 ? Napi::String::New(env, ErrorName(e.code)) : Napi::String::New(env, "ERR_SCSI_FAILED"));
  o.Set("errno", Napi::Number::New(env, static_cast<double>(e.code)));
  o.Set("step", Napi::String::New(env, e.step));
  o.Set("syscall", Napi::String::New(env, e.step));
  if (!path.empty()) o.Set("path", Napi::String::New(env, path));
  return err;
}

Napi::Error CodedError(Napi::Env env, const char* kind, const std::string& msg, const char* code) {
  Napi::Error err = std::string(kind) == "TypeError"    ? Napi::Error(Napi::TypeError::New(env, msg))
                    : std::string(kind) == "RangeError" ? Napi::Error(Napi::RangeError::New(env, msg))
                                                        : Napi::Error::New(env, msg);
  err.Value().Set("code", Napi::String::New(env, code));
  return err;
}

Napi::Value Rejected(Napi::Env env, const Napi::Error& e) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  d.Reject(e.Value());
  return d.Promise();
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg) {
  throw CodedError(env, "TypeError", msg, "ERR_INVALID_ARG_TYPE");
}
[[noreturn]] void ThrowValue(Napi::Env env, const std::string& msg) {
  throw CodedError(env, "TypeError", msg, "ERR_INVALID_ARG_VALUE");
}
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) {
  throw CodedError(env, "RangeError", msg, "ERR_OUT_OF_RANGE");
}

// A whole number in [lo, hi]; anything else (NaN, fractions, strings, BigInt, objects) throws.
uint32_t ArgUint(Napi::Env env, const Napi::Value& v, const char* name, uint32_t lo, uint32_t hi) {
  if (!v.IsNumber()) ThrowType(env, std::string("The \"") + name + "\" argument must be of type number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) {
    ThrowRange(env, std::string("The value of \"") + name + "\" is out of range. It must be an integer >= " +
                        std::to_string(lo) + " and <= " + std::to_string(hi));
  }
  return static_cast<uint32_t>(d);
}

// ---- device state shared by the handle object and the commands queued on it ----

class Op;

struct DeviceState {
  Device* dev = nullptr;  // null once closed (or when the open failed)
  std::string path;
  uint32_t maxTransfer = 0;
  bool exclusive = false;
  bool closing = false;   // close() was called: new commands are refused
  bool busy = false;      // a worker of this handle is in the thread pool
  std::deque<Op*> waiting;

  ~DeviceState() {
    // The handle was garbage-collected without close(): release the device (on the JavaScript thread; every
    // worker of this handle has finished, since each holds a reference to this state).
    if (dev) {
      OsError ignored;
      Close(dev, &ignored);
      dev = nullptr;
    }
  }
  void Submit(Op* op);
  void Next();
};

// A command (or close) queued on one handle: runs on a worker thread, settles its promise on the JS thread,
// then starts the next one of the same handle.
class Op : public Napi::AsyncWorker {
 public:
  Op(Napi::Env env, std::shared_ptr<DeviceState> st)
      : Napi::AsyncWorker(env, "discforge:scsi"), st_(std::move(st)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // Settling can fail only while the environment is being torn down (a worker thread terminated with commands in
  // flight): nothing can be told to JavaScript then, and no exception may escape into Node (it would abort).
  void OnOK() override {
    try {
      Napi::HandleScope scope(Env());
      Settle(Env());
    } catch (...) {
    }
    Continue();
  }
  void OnError(const Napi::Error& e) override {  // not used (Execute never calls SetError), kept for safety
    try {
      deferred_.Reject(e.Value());
    } catch (...) {
    }
    Continue();
  }
  void Continue() {
    std::shared_ptr<DeviceState> st = st_;
    st->busy = false;
    try {
      st->Next();
    } catch (...) {
    }
  }
  virtual void Settle(Napi::Env env) = 0;

  std::shared_ptr<DeviceState> st_;
  Napi::Promise::Deferred deferred_;
};

void DeviceState::Submit(Op* op) {
  if (busy) {
    waiting.push_back(op);
    return;
  }
  busy = true;
  op->Queue();
}

void DeviceState::Next() {
  if (busy || waiting.empty()) return;
  Op* op = waiting.front();
  waiting.pop_front();
  busy = true;
  try {
    op->Queue();
  } catch (...) {  // the environment is going away: this op will never run
    busy = false;
    delete op;
    throw;
  }
}

class ExecuteOp : public Op {
 public:
  ExecuteOp(Napi::Env env, std::shared_ptr<DeviceState> st, Request req) : Op(env, std::move(st)), req_(std::move(req)) {}

 protected:
  void Execute() override {
    if (!st_->dev) {  // cannot happen: close() refuses the commands that would come after it
      ok_ = false;
      err_.step = "execute";
      err_.detail = "the device is closed";
      return;
    }
    ok_ = dfscsi::Execute(st_->dev, req_, &res_, &err_);
  }
  void Settle(Napi::Env env) override {
    if (!ok_) {
      deferred_.Reject(MakeOsError(env, err_, st_->path).Value());
      return;
    }
    Napi::Object r = Napi::Object::New(env);
    r.Set("status", Napi::Number::New(env, res_.status));
    r.Set("sense", Napi::Buffer<uint8_t>::Copy(env, res_.sense.data(), res_.sense.size()));
    r.Set("data", Napi::Buffer<uint8_t>::Copy(env, res_.data.data(), res_.data.size()));
    r.Set("residual", Napi::Number::New(env, static_cast<double>(res_.residual)));
    r.Set("hostStatus", Napi::Number::New(env, res_.hostStatus));
    r.Set("driverStatus", Napi::Number::New(env, res_.driverStatus));
    r.Set("durationMs", Napi::Number::New(env, res_.durationMs));
    deferred_.Resolve(r);
  }

 private:
  Request req_;
  Result res_;
  OsError err_;
  bool ok_ = false;
};

class CloseOp : public Op {
 public:
  using Op::Op;

 protected:
  void Execute() override {
    Device* d = st_->dev;
    st_->dev = nullptr;  // only this worker touches the device now (the queue is serial)
    ok_ = Close(d, &err_);
  }
  void Settle(Napi::Env env) override {
    if (ok_) deferred_.Resolve(env.Undefined());
    else deferred_.Reject(MakeOsError(env, err_, st_->path).Value());
  }

 private:
  OsError err_;
  bool ok_ = false;
};

// ---- the handle object ----

// Per-environment data (the main thread and each worker thread that loads the addon have their own).
struct AddonData {
  Napi::FunctionReference handleCtor;
};

class Handle : public Napi::ObjectWrap<Handle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ScsiDeviceHandle", {});
  }
  explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Handle>(info) {
    // Only open() makes handles: it passes an External with the state.
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw CodedError(info.Env(), "TypeError", "ScsiDeviceHandle cannot be constructed: use open()", "ERR_ILLEGAL_CONSTRUCTOR");
    }
    auto* sp = info[0].As<Napi::External<std::shared_ptr<DeviceState>>>().Data();
    st = *sp;
  }
  std::shared_ptr<DeviceState> st;
};

std::shared_ptr<DeviceState> StateOf(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kHandleTag)) {
    ThrowType(env, "The \"handle\" argument must be a handle returned by open()");
  }
  Handle* h = Handle::Unwrap(v.As<Napi::Object>());
  if (!h || !h->st) ThrowType(env, "The \"handle\" argument must be a handle returned by open()");
  return h->st;
}

// ---- open ----

class OpenOp : public Napi::AsyncWorker {
 public:
  OpenOp(Napi::Env env, std::string path, OpenOptions opts)
      : Napi::AsyncWorker(env, "discforge:scsi-open"),
        path_(std::move(path)),
        opts_(std::move(opts)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { ok_ = Open(path_, opts_, &dev_, &maxTransfer_, &err_); }
  void OnOK() override {
    try {
      Settle();
    } catch (...) {  // the environment is being torn down: the device is closed by the destructors
    }
  }
  void Settle() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!ok_) {
      deferred_.Reject(MakeOsError(env, err_, path_).Value());
      return;
    }
    auto st = std::make_shared<DeviceState>();
    st->dev = dev_;
    dev_ = nullptr;
    st->path = path_;
    st->maxTransfer = maxTransfer_;
    st->exclusive = opts_.exclusive;
    std::shared_ptr<DeviceState> holder = st;
    Napi::Object h = env.GetInstanceData<AddonData>()->handleCtor.New({Napi::External<std::shared_ptr<DeviceState>>::New(env, &holder)});
    h.TypeTag(&kHandleTag);
    h.DefineProperties({
        Napi::PropertyDescriptor::Value("path", Napi::String::New(env, path_), napi_enumerable),
        Napi::PropertyDescriptor::Value("maxTransferBytes", Napi::Number::New(env, maxTransfer_), napi_enumerable),
        Napi::PropertyDescriptor::Value("exclusive", Napi::Boolean::New(env, opts_.exclusive), napi_enumerable),
    });
    deferred_.Resolve(h);
  }
  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (...) {
    }
  }
  ~OpenOp() override {
    if (dev_) {  // the environment went away between Execute and OnOK
      OsError ignored;
      Close(dev_, &ignored);
    }
  }

 private:
  std::string path_;
  OpenOptions opts_;
  Napi::Promise::Deferred deferred_;
  Device* dev_ = nullptr;
  uint32_t maxTransfer_ = 0;
  OsError err_;
  bool ok_ = false;
};

Napi::Value OpenFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "The \"path\" argument must be of type string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.size() > kMaxPathBytes) ThrowValue(env, "The \"path\" argument must be a device path (1 to 4096 bytes)");
  if (path.find('\0') != std::string::npos) ThrowValue(env, "The \"path\" argument must not contain NUL characters");
  if (info.Length() < 2 || !info[1].IsObject() || info[1].IsArray() || info[1].IsFunction()) {
    ThrowType(env, "The \"options\" argument must be of type object ({ exclusive: boolean, holder?: string })");
  }
  Napi::Object o = info[1].As<Napi::Object>();
  Napi::Value ex = o.Get("exclusive");
  if (!ex.IsBoolean()) ThrowType(env, "The \"options.exclusive\" property must be of type boolean");
  OpenOptions opts;
  opts.exclusive = ex.As<Napi::Boolean>().Value();
  Napi::Value holder = o.Get("holder");
  if (!holder.IsUndefined()) {
    if (!holder.IsString()) ThrowType(env, "The \"options.holder\" property must be of type string");
    opts.holder = holder.As<Napi::String>().Utf8Value();
    if (opts.holder.size() > 1024) ThrowValue(env, "The \"options.holder\" property is too long (at most 1024 bytes)");
  }
  if (!PassThroughSupported()) {
    OsError e;
    e.step = "open";
    e.detail = std::string("SCSI pass-through is not supported on ") + PlatformName();
    Napi::Error err = MakeOsError(env, e, path);
    err.Value().Set("code", Napi::String::New(env, "ERR_SCSI_UNSUPPORTED_PLATFORM"));
    return Rejected(env, err);
  }
  auto* op = new OpenOp(env, path, opts);
  Napi::Promise p = op->Promise();
  op->Queue();
  return p;
}

// ---- execute ----

Napi::Value ExecuteFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<DeviceState> st = StateOf(env, info.Length() > 0 ? info[0] : env.Undefined());
  // cdb
  if (info.Length() < 2 || !info[1].IsBuffer()) ThrowType(env, "The \"cdb\" argument must be a Buffer or Uint8Array");
  Napi::Buffer<uint8_t> cdb = info[1].As<Napi::Buffer<uint8_t>>();
  if (cdb.Length() < kMinCdb || cdb.Length() > kMaxCdb) {
    ThrowRange(env, "The \"cdb\" argument must be 6 to 16 bytes long (got " + std::to_string(cdb.Length()) + ")");
  }
  // direction
  if (info.Length() < 3 || !info[2].IsString()) ThrowType(env, "The \"direction\" argument must be 'none', 'in' or 'out'");
  std::string dir = info[2].As<Napi::String>().Utf8Value();
  Request req;
  if (dir == "none") req.direction = Direction::None;
  else if (dir == "in") req.direction = Direction::In;
  else if (dir == "out") req.direction = Direction::Out;
  else ThrowValue(env, "The \"direction\" argument must be 'none', 'in' or 'out'");
  // data: a Buffer for 'out', an allocation length for 'in', 0 (or nothing) for 'none'
  Napi::Value data = info.Length() > 3 ? info[3] : env.Undefined();
  const uint32_t limit = st->maxTransfer;
  if (req.direction == Direction::Out) {
    if (!data.IsBuffer()) ThrowType(env, "The \"data\" argument must be a Buffer for direction 'out'");
    Napi::Buffer<uint8_t> b = data.As<Napi::Buffer<uint8_t>>();
    if (b.Length() > limit) {
      ThrowRange(env, "The \"data\" argument is " + std::to_string(b.Length()) + " bytes: more than the " +
                          std::to_string(limit) + " bytes this device takes in one command (split the transfer)");
    }
  } else if (req.direction == Direction::In) {
    req.inLength = ArgUint(env, data, "data", 0, limit);
  } else {
    if (!data.IsUndefined() && !(data.IsNumber() && data.As<Napi::Number>().DoubleValue() == 0) &&
        !(data.IsBuffer() && data.As<Napi::Buffer<uint8_t>>().Length() == 0)) {
      ThrowValue(env, "The \"data\" argument must be 0 for direction 'none'");
    }
  }
  // timeout
  req.timeoutMs = ArgUint(env, info.Length() > 4 ? info[4] : env.Undefined(), "timeoutMs", 1, kMaxTimeoutMs);
  // (Only the JavaScript thread reads `closing`; `dev` belongs to the worker of the handle's queue.)
  if (st->closing) return Rejected(env, CodedError(env, "Error", "the device handle " + st->path + " is closed", "ERR_SCSI_CLOSED"));
  if (st->waiting.size() >= kMaxQueued) {
    return Rejected(env, CodedError(env, "Error", "too many commands queued on " + st->path + " (at most " +
                                                      std::to_string(kMaxQueued) + ")", "ERR_SCSI_QUEUE_FULL"));
  }
  // Every length is checked: now copy (the caller may reuse its buffers as soon as we return).
  req.cdb.assign(cdb.Data(), cdb.Data() + cdb.Length());
  if (req.direction == Direction::Out) {
    Napi::Buffer<uint8_t> b = data.As<Napi::Buffer<uint8_t>>();
    req.out.assign(b.Data(), b.Data() + b.Length());
  }
  auto* op = new ExecuteOp(env, st, std::move(req));
  Napi::Promise p = op->Promise();
  st->Submit(op);
  return p;
}

// ---- close ----

Napi::Value CloseFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<DeviceState> st = StateOf(env, info.Length() > 0 ? info[0] : env.Undefined());
  if (st->closing) {
    return Rejected(env, CodedError(env, "Error", "the device handle " + st->path + " is already closed", "ERR_SCSI_CLOSED"));
  }
  st->closing = true;
  auto* op = new CloseOp(env, st);
  Napi::Promise p = op->Promise();
  st->Submit(op);  // after the commands queued before it
  return p;
}

// ---- list ----

class ListOp : public Napi::AsyncWorker {
 public:
  explicit ListOp(Napi::Env env) : Napi::AsyncWorker(env, "discforge:scsi-list"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { ok_ = List(&devices_, &err_); }
  void OnOK() override {
    try {
      Settle();
    } catch (...) {  // the environment is being torn down
    }
  }
  void Settle() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!ok_) {
      deferred_.Reject(MakeOsError(env, err_, std::string()).Value());
      return;
    }
    Napi::Array a = Napi::Array::New(env, devices_.size());
    for (size_t i = 0; i < devices_.size(); i++) {
      const DeviceInfo& d = devices_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("path", d.path);
      o.Set("name", d.name);
      o.Set("vendor", d.vendor);
      o.Set("model", d.model);
      o.Set("revision", d.revision);
      o.Set("type", Napi::Number::New(env, d.type));
      if (!d.sg.empty()) o.Set("sg", d.sg);
      if (!d.block.empty()) o.Set("block", d.block);
      a.Set(static_cast<uint32_t>(i), o);
    }
    deferred_.Resolve(a);
  }
  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (...) {
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<DeviceInfo> devices_;
  OsError err_;
  bool ok_ = false;
};

Napi::Value ListFn(const Napi::CallbackInfo& info) {
  auto* op = new ListOp(info.Env());
  Napi::Promise p = op->Promise();
  op->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->handleCtor = Napi::Persistent(Handle::Define(env));
  env.SetInstanceData<AddonData>(data);  // deleted with the environment
  exports.Set("open", Napi::Function::New(env, OpenFn, "open"));
  exports.Set("execute", Napi::Function::New(env, ExecuteFn, "execute"));
  exports.Set("close", Napi::Function::New(env, CloseFn, "close"));
  exports.Set("list", Napi::Function::New(env, ListFn, "list"));
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("minCdb", Napi::Number::New(env, static_cast<double>(kMinCdb)));
  limits.Set("maxCdb", Napi::Number::New(env, static_cast<double>(kMaxCdb)));
  limits.Set("senseBytes", Napi::Number::New(env, static_cast<double>(kSenseBytes)));
  limits.Set("maxTransferBytes", Napi::Number::New(env, kHardMaxTransfer));
  limits.Set("maxTimeoutMs", Napi::Number::New(env, kMaxTimeoutMs));
  limits.Set("maxQueued", Napi::Number::New(env, static_cast<double>(kMaxQueued)));
  exports.Set("limits", limits);
  exports.Set("platform", Napi::String::New(env, PlatformName()));
  exports.Set("passThrough", Napi::Boolean::New(env, PassThroughSupported()));
  exports.Set("version", Napi::String::New(env, "1"));
  return exports;
}

}  // namespace
}  // namespace dfscsi

static Napi::Object InitDiscforgeScsi(Napi::Env env, Napi::Object exports) { return dfscsi::Init(env, exports); }

NODE_API_MODULE(discforge_scsi, InitDiscforgeScsi)
