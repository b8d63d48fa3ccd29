# The DiscForge SCSI pass-through addon (node-addon-api, Node-API version 8: one binary per platform and
# architecture, for every Node.js >= 16 and Electron). Build: `npm run build:native` (node-gyp in this folder).
# Hardening: warnings are errors everywhere; stack protector, _FORTIFY_SOURCE and full RELRO on Linux;
# /W4 /WX /guard:cf /sdl, ASLR and DEP on Windows.
{
  "targets": [
    {
      "target_name": "discforge_scsi",
      "sources": ["src/addon.cc", "src/common.h"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/linux.cc"],
          "cflags": [
            "-Wall", "-Wextra", "-Werror", "-Wformat=2", "-Wno-missing-field-initializers",
            "-fstack-protector-strong", "-U_FORTIFY_SOURCE", "-D_FORTIFY_SOURCE=2", "-fno-strict-aliasing"
          ],
          "cflags_cc": ["-std=c++17"],
          "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"]
        }],
        ["OS=='win'", {
          "sources": ["src/win.cc"],
          "defines": ["_WIN32_WINNT=0x0601", "UNICODE", "_UNICODE"],
          "msvs_settings": {
            "VCCLCompilerTool": {
              "WarningLevel": 4,
              "WarnAsError": "true",
              "AdditionalOptions": ["/guard:cf", "/sdl", "/std:c++17"]
            },
            "VCLinkerTool": {
              "AdditionalOptions": ["/guard:cf", "/DYNAMICBASE", "/NXCOMPAT"]
            }
          }
        }],
        ["OS!='linux' and OS!='win'", {
          "sources": ["src/other.cc"],
          "xcode_settings": {
            "OTHER_CFLAGS": ["-Wall", "-Wextra", "-Werror", "-fstack-protector-strong"],
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
          }
        }]
      ]
    }
  ]
}
