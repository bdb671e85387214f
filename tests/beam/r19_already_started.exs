# Rule 19: starting with a taken name returns {:error, {:already_started, pid}} with the
# holder, without running init again.
defmodule R19.S do
  use GenServer
  def init(parent) do
    send(parent, :init_ran)
    {:ok, nil}
  end
end

defmodule R19 do
  def run do
    {:ok, s1} = GenServer.start_link(R19.S, self(), name: :r19_srv)
    for {label, r} <- [
          {"start_link", GenServer.start_link(R19.S, self(), name: :r19_srv)},
          {"start", GenServer.start(R19.S, self(), name: :r19_srv)}
        ] do
      case r do
        {:error, {:already_started, p}} -> IO.puts("r19 second #{label}: already_started holder=#{p == s1}")
        other -> IO.puts("r19 second #{label}: #{inspect(other)}")
      end
    end
    IO.puts("r19 inits run: #{count(0)}")
  end

  def count(n) do
    receive do
      :init_ran -> count(n + 1)
    after
      0 -> n
    end
  end
end

R19.run()
