-- Mandelbrot set: count the points of a SIZE x SIZE grid that stay bounded
-- for 50 iterations. Same output as mandelbrot.wal.
local SIZE = 800
local MAX_ITER = 50

local function mandelbrot(size)
  local inside = 0
  for y = 0, size - 1 do
    local ci = 2.0 * y / size - 1.0
    for x = 0, size - 1 do
      local cr = 2.0 * x / size - 1.5
      local zr, zi = 0.0, 0.0
      local escaped = false
      for _ = 1, MAX_ITER do
        local tr = zr * zr - zi * zi + cr
        zi = 2.0 * zr * zi + ci
        zr = tr
        if zr * zr + zi * zi > 4.0 then
          escaped = true
          break
        end
      end
      if not escaped then inside = inside + 1 end
    end
  end
  return inside
end

local function main()
  print(string.format("%d of %d points inside", mandelbrot(SIZE), SIZE * SIZE))
end

main()
