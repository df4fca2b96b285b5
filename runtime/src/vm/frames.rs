//! Entering and leaving call frames: a call pushes a frame over its arguments; a call in
//! tail position takes its caller's frame instead, so tail recursion runs in constant space.

use crate::error::{RtError, RtResult};
use crate::objects::new_cell;
use crate::value::*;
use crate::vm::stack::{push_built, store_float, store_int, store_value, truncate_stack};
use crate::vm::{Frame, Vm, arity_error};
use std::rc::Rc;

impl Vm {
    #[inline(always)]
    pub(crate) fn push_frame(
        &mut self,
        closure: Rc<Closure>,
        argc: usize,
        base: usize,
    ) -> RtResult<()> {
        let proto = &closure.proto;
        if argc != proto.arity as usize || self.frames.len() > self.max_depth {
            return Err(self.frame_error(&closure, argc));
        }
        // Usually the arguments already fill the parameter slots: only locals need room.
        let top = base + proto.num_slots as usize;
        if top > self.stack.len() {
            // Inline, a few nils (`resize` is an out-of-line call).
            self.stack.reserve(top - self.stack.len());
            while self.stack.len() < top {
                push_built(&mut self.stack, || Value::Nil);
            }
        } else if top < self.stack.len() {
            truncate_stack(&mut self.stack, top);
        }
        if proto.has_cell_params {
            self.wrap_cell_params(&closure, argc, base);
        }
        // Build the frame only after the vector has room (`extend` reserves first): a frame
        // built before a possible reallocation is spilled and reloaded as one 16-byte load
        // after two 8-byte stores, a store-forwarding stall on every call.
        self.frames.extend(std::iter::once_with(|| Frame {
            closure,
            ip: 0,
            base,
        }));
        Ok(())
    }

    /// Why `push_frame` refused a call: the wrong argument count or too deep a stack.
    #[cold]
    #[inline(never)]
    pub(crate) fn frame_error(&self, closure: &Closure, argc: usize) -> RtError {
        let proto = &closure.proto;
        if argc != proto.arity as usize {
            return arity_error(&proto.display_name(), proto.arity as usize, argc);
        }
        RtError::new("stack overflow")
    }

    /// Wrap the captured parameters (and `this`) of a new frame in cells.
    #[inline(never)]
    pub(crate) fn wrap_cell_params(&mut self, closure: &Closure, argc: usize, base: usize) {
        for (slot, is_cell) in closure.proto.cell_slots.iter().enumerate().take(argc + 1) {
            if *is_cell {
                let v = std::mem::take(&mut self.stack[base + slot]);
                self.stack[base + slot] = new_cell(v);
            }
        }
    }

    /// A call in tail position: the callee takes over the current frame. Its slot 0 and
    /// arguments, at `at`, move down to the frame's base over the caller's slots, and the
    /// rest of the caller's slots go. No frame is pushed or removed, and the callee's
    /// locals are not moved (they are opened after the move).
    #[inline(always)]
    pub(crate) fn tail_frame(
        &mut self,
        closure: Rc<Closure>,
        argc: usize,
        at: usize,
    ) -> RtResult<()> {
        let proto = &closure.proto;
        let Some(base) = self.frames.last().map(|f| f.base) else {
            return Err(RtError::new("no frame"));
        };
        if argc != proto.arity as usize {
            return Err(self.frame_error(&closure, argc));
        }
        // Upward from the base: each source slot is read before anything is stored over it
        // (`at` is above `base`). Numbers move as payloads (they were usually just written
        // in parts, and a whole 16-byte copy would stall); the source keeps its scalar and
        // is cut below.
        for i in 0..=argc {
            match self.stack[at + i] {
                Value::Int(n) => store_int(&mut self.stack[base + i], n),
                Value::Float(f) => store_float(&mut self.stack[base + i], f),
                _ => {
                    let v = std::mem::take(&mut self.stack[at + i]);
                    store_value(&mut self.stack[base + i], v);
                }
            }
        }
        truncate_stack(&mut self.stack, base + argc + 1);
        let top = base + proto.num_slots as usize;
        if top > self.stack.len() {
            self.stack.reserve(top - self.stack.len());
            while self.stack.len() < top {
                push_built(&mut self.stack, || Value::Nil);
            }
        }
        if proto.has_cell_params {
            self.wrap_cell_params(&closure, argc, base);
        }
        if let Some(f) = self.frames.last_mut() {
            f.closure = closure;
            f.ip = 0;
        }
        Ok(())
    }

    /// After a call in tail position pushed its frame: drop the caller's frame, moving the
    /// callee's slots down to the caller's base, so tail recursion runs in constant space.
    pub(crate) fn collapse_tail_frame(&mut self) {
        let n = self.frames.len();
        if n < 2 {
            return;
        }
        let old_base = self.frames[n - 2].base;
        let new_base = self.frames[n - 1].base;
        // The callee's few slots move down over the caller's, one swap at a time (a
        // `drain` is a call to memmove and another to drop the drained values).
        let moved = self.stack.len() - new_base;
        for i in 0..moved {
            self.stack.swap(old_base + i, new_base + i);
        }
        truncate_stack(&mut self.stack, old_base + moved);
        // The callee's frame takes the caller's place.
        drop(self.frames.swap_remove(n - 2));
        self.frames[n - 2].base = old_base;
    }
}
