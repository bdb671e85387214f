# Rule 22: Registry via names: a live holder gives already_started / already_registered;
# whereis filters a dead holder; registering over a dead holder succeeds.
defmodule R22.S do
  use GenServer
  def init(_), do: {:ok, nil}
  def handle_call(:who, _from, s), do: {:reply, self(), s}
end

defmodule R22 do
  def run do
    {:ok, _} = Registry.start_link(keys: :unique, name: R22.Reg)
    via = {:via, Registry, {R22.Reg, "k"}}
    {:ok, s1} = GenServer.start_link(R22.S, nil, name: via)
    IO.puts("r22 via start: ok, whereis holder=#{GenServer.whereis(via) == s1}")
    case GenServer.start_link(R22.S, nil, name: via) do
      {:error, {:already_started, p}} -> IO.puts("r22 second via start: already_started holder=#{p == s1}")
      other -> IO.puts("r22 second via start: #{inspect(other)}")
    end
    case Registry.register(R22.Reg, "k", nil) do
      {:error, {:already_registered, p}} -> IO.puts("r22 register over live holder: already_registered holder=#{p == s1}")
      other -> IO.puts("r22 register over live holder: #{inspect(other)}")
    end
    IO.puts("r22 call via name: reached holder=#{GenServer.call(via, :who) == s1}")
    Process.unlink(s1)
    :ok = GenServer.stop(via)
    IO.puts("r22 whereis after holder stopped: #{inspect(GenServer.whereis(via))}")
    case Registry.register(R22.Reg, "k", nil) do
      {:ok, _} -> IO.puts("r22 register over dead holder: ok")
      other -> IO.puts("r22 register over dead holder: #{inspect(other)}")
    end
    IO.puts("r22 whereis after re-register: self=#{GenServer.whereis(via) == self()}")
  end
end

R22.run()
