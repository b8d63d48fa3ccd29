; DiscForge MBR boot code for hybrid (isohybrid-style) images.
;
; Assemble:  nasm -f bin -o mbr.bin mbr.asm      (scripts/gen-mbr.mjs does this and writes mbr-code.ts)
;
; When a hybrid ISO image is written to a USB stick or attached as a hard disk, a PC BIOS reads the image's first
; 512-byte sector (the MBR) to 0000:7C00 and jumps there with DL = the BIOS drive number (the IBM PC convention every
; BIOS follows, written down in the BIOS Boot Specification 1.01, Compaq/Phoenix/Intel 1996). This code loads the
; El Torito no-emulation BIOS boot image, which sits somewhere inside the ISO 9660 image, and starts it the way the
; firmware would have started it from a CD: at load segment:0000 with DL = the drive it came from.
;
; Steps:
;   1. segments = 0, stack below 0000:7C00, copy the 512 bytes from 0000:7C00 to 0000:0600 and continue there, so
;      that the usual load area (0000:7C00 and up) is free for the boot image;
;   2. check for the INT 13h extensions (AH=41h, BX=55AAh -> carry clear, BX=AA55h, CX bit 0 = "fixed disk access
;      subset", i.e. functions 42h-44h, 47h, 48h are there) - Phoenix Technologies, "BIOS Enhanced Disk Drive
;      Specification" version 3.0 (1998; "EDD 3.0", later taken over by T13 as EDD-3), INT 13h function 41h;
;   3. read COUNT 512-byte sectors from the 64-bit LBA in the patch field at 0x1B0 to SEGMENT:0000 with INT 13h
;      AH=42h "extended read" and a disk address packet (EDD 3.0, function 42h; packet: size 10h, reserved, block
;      count (word), transfer buffer offset:segment (dword), starting LBA (qword)). At most 64 sectors per call
;      (EDD 3.0 allows up to 127, some BIOSes fail above 64), never across a 64 KiB physical boundary (old BIOSes
;      use ISA-style DMA that cannot cross one), each call at offset 0 of a new segment, so the image may be
;      larger than 64 KiB; failed reads are retried after a disk reset (AH=00h);
;   4. jump to SEGMENT:0000 - for the default SEGMENT 07C0h to 0000:7C00, as BIOSes start boot sectors - with DL =
;      the boot drive;
;   5. on failure (no extensions, a read error after retries, COUNT = 0) print a short message with INT 10h AH=0Eh
;      (teletype) and on COM1 (port 3F8h), then halt (cli; hlt).
;
; MBR layout (the classic PC MBR: 446 bytes of code, four 16-byte partition entries at 0x1BE, 55h AAh at 0x1FE; the
; 32-bit disk signature at 0x1B8 as Windows NT introduced it; syslinux isohybrid's place for the boot image's LBA at
; 0x1B0):
;   0x000-0x1AB  this code and its messages
;   0x1AC-0x1AD  COUNT:   512-byte sectors to load (little-endian word) - patched by makeMbr()
;   0x1AE-0x1AF  SEGMENT: load segment (little-endian word, 07C0h here)  - patched by makeMbr()
;   0x1B0-0x1B7  LBA:     512-byte LBA of the boot image (little-endian qword; isohybrid's isohdpfx.bin keeps it in
;                         the same place) - patched by makeMbr(); not part of this file's output
;   0x1B8-0x1BB  disk signature, 0x1BC-0x1BD 0, 0x1BE-0x1FD four 16-byte partition entries, 0x1FE-0x1FF 55h AAh -
;                all written by makeMbr()
; This file assembles to exactly 0x1B0 bytes (0x000-0x1AF).
;
; Memory used: 0000:0600-07FF (this code after relocation), stack below 0000:7C00 (down to about 0000:7B00), the
; boot image at SEGMENT:0000 onwards - which must therefore not overlap 0000:0600-07FF nor the stack.

        bits 16
        cpu 386                         ; 32-bit registers for the 64-bit LBA arithmetic (every PC that boots from
                                        ; USB has them)
        org 0x0600                      ; where the code runs after the relocation

RELOC        equ 0x0600                 ; relocation target
BIOS_LOAD    equ 0x7C00                 ; where the BIOS put us
MAX_CHUNK    equ 64                     ; sectors per INT 13h AH=42h call
RETRIES      equ 3                      ; attempts per chunk
COM1         equ 0x3F8                  ; 8250/16550 UART: data register; +5 = line status register

; ---------------------------------------------------------------------------------------------------------------
; 1. Set up and relocate.
start:
        cli
        xor     ax, ax
        mov     ss, ax
        mov     sp, BIOS_LOAD           ; stack grows down from 0000:7C00
        mov     ds, ax
        mov     es, ax
        sti
        cld
        mov     si, BIOS_LOAD
        mov     di, RELOC
        mov     cx, 256                 ; 512 bytes
        rep movsw
        jmp     0x0000:relocated        ; far jump: CS = 0, IP = relocated address (some BIOSes enter at 07C0:0000)

relocated:
        mov     [boot_drive], dl

; ---------------------------------------------------------------------------------------------------------------
; 2. INT 13h extensions present? (EDD 3.0, function 41h "Check Extensions Present")
        mov     ah, 0x41
        mov     bx, 0x55AA
        int     0x13                    ; may change AX, BX, CX, DH
        mov     si, msg_no_edd
        jc      fail
        cmp     bx, 0xAA55
        jne     fail
        test    cl, 1                   ; bit 0: fixed disk access subset (42h-44h, 47h, 48h)
        jz      fail

; ---------------------------------------------------------------------------------------------------------------
; 3. Load COUNT sectors from LBA to SEGMENT:0000.
        mov     si, msg_empty
        mov     cx, [count]             ; CX = sectors left
        test    cx, cx
        jz      fail
        mov     eax, [lba]              ; copy the patched LBA into the disk address packet
        mov     [dap_lba], eax
        mov     eax, [lba + 4]
        mov     [dap_lba + 4], eax
        mov     bx, [load_segment]      ; BX = segment of the next chunk (offset always 0)

.chunk:
        ; n = min(CX, MAX_CHUNK, whole sectors before the next 64 KiB physical boundary (at least 1))
        mov     ax, bx
        and     ax, 0x0FFF              ; paragraphs into the current 64 KiB
        neg     ax
        add     ax, 0x1000              ; paragraphs left to the boundary (1..4096)
        shr     ax, 5                   ; 32 paragraphs = 512 bytes
        jnz     .nonzero
        inc     ax                      ; less than one sector left to the boundary (an unaligned segment)
.nonzero:
        cmp     ax, MAX_CHUNK
        jbe     .max_ok
        mov     ax, MAX_CHUNK
.max_ok:
        cmp     ax, cx
        jbe     .count_ok
        mov     ax, cx
.count_ok:
        mov     di, RETRIES
.try:
        mov     [dap_count], ax         ; the BIOS may change it (to what it transferred) on error: set every time
        mov     word [dap_offset], 0
        mov     [dap_segment], bx
        pusha                           ; keep every register across the BIOS call (POPA leaves the flags)
        mov     si, dap                 ; DS:SI -> disk address packet
        mov     dl, [boot_drive]
        mov     ah, 0x42                ; EDD 3.0 function 42h "Extended Read"
        int     0x13
        popa
        jnc     .done
        mov     si, msg_read
        dec     di
        jz      fail
        pusha
        xor     ah, ah                  ; INT 13h AH=00h: reset the disk system, then try again
        mov     dl, [boot_drive]
        int     0x13
        popa
        jmp     .try
.done:
        sub     cx, ax                  ; sectors left
        movzx   eax, ax
        add     [dap_lba], eax          ; next LBA (64-bit add)
        adc     dword [dap_lba + 4], 0
        shl     ax, 5                   ; sectors -> paragraphs
        add     bx, ax                  ; next segment
        test    cx, cx
        jnz     .chunk

; ---------------------------------------------------------------------------------------------------------------
; 4. Start the boot image: SEGMENT:0000, or 0000:7C00 for segment 07C0h; DL = boot drive.
        mov     ax, [load_segment]
        xor     bx, bx
        cmp     ax, BIOS_LOAD >> 4
        jne     .far
        xchg    ax, bx                  ; CS:IP = 0000:7C00
        mov     bx, BIOS_LOAD
.far:
        push    ax                      ; CS
        push    bx                      ; IP
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     dl, [boot_drive]
        retf

; ---------------------------------------------------------------------------------------------------------------
; 5. Failure: print "DiscForge MBR: " + the message at SI on screen and COM1, then halt.
fail:
        push    si
        mov     si, msg_prefix
        call    print
        pop     si
        call    print
        cli
.halt:
        hlt
        jmp     .halt

; Prints the NUL-terminated string at DS:SI with INT 10h AH=0Eh (teletype output, page 0) and to COM1.
print:
        lodsb
        test    al, al
        jz      .ret
        push    ax                      ; the BIOS may change AX
        mov     ah, 0x0E
        mov     bx, 0x0007              ; page 0, colour 7 (graphics modes)
        int     0x10
        mov     dx, COM1 + 5            ; line status register
        mov     cx, 0xFFFF              ; bounded wait: a missing UART must not hang us
.wait:
        in      al, dx
        test    al, 0x20                ; bit 5: transmitter holding register empty
        jnz     .send
        loop    .wait
.send:
        pop     ax
        mov     dx, COM1                ; transmitter holding register
        out     dx, al
        jmp     print
.ret:
        ret

msg_prefix:  db "DiscForge MBR: ", 0
msg_no_edd:  db "no INT 13h extensions", 13, 10, 0
msg_read:    db "disk read error", 13, 10, 0
msg_empty:   db "no boot image", 13, 10, 0

; ---------------------------------------------------------------------------------------------------------------
; Disk address packet (EDD 3.0, function 42h), in the relocated copy.
        align 4
dap:
        db      0x10                    ; packet size
        db      0                       ; reserved
dap_count:
        dw      0                       ; blocks to transfer (at most 127)
dap_offset:
        dw      0                       ; transfer buffer offset
dap_segment:
        dw      0                       ; transfer buffer segment
dap_lba:
        dq      0                       ; starting LBA (512-byte blocks)

boot_drive:
        db      0

; ---------------------------------------------------------------------------------------------------------------
; Patch fields (fixed offsets; server/src/engine/boot/mbr-code.ts exports them).
        times   0x1AC - ($ - $$) db 0   ; nasm fails here ("TIMES value is negative") if the code grows too big
count:
        dw      0                       ; 0x1AC: sectors to load; 0 = nothing to load (prints an error)
load_segment:
        dw      BIOS_LOAD >> 4          ; 0x1AE: load segment, default 07C0h
lba          equ RELOC + 0x1B0          ; 0x1B0: 64-bit LBA, written by makeMbr() after this file's last byte
