"""Chinese words -> the English the rules read (see ``extractor.words.lexicon``).

Chinese has no spaces: ``extractor.words.normalize`` cuts a run of Chinese characters by
longest match against these keys; numbers written in Chinese become digits there.
"""

from __future__ import annotations

from extractor.words.lexicon import table_of

CHINESE = table_of("""
提取音频|提取声音|提取|抽取音频|分离音频|导出|下载|转换|转成|转换成|转换为|转为|变成|弄成|做成 = extract
请帮我|帮我|请|麻烦|一下|我想要|我想|我要|给我|把|将|这个|那个|这些|的|吗|呢|吧|了|谢谢|一个|单独|就行|就好|可以吗 = please
视频|影片|文件|音频|声音|电影|录音 = audio
音轨|声道轨|配音|版本 = track
格式 = format
所有音轨|全部音轨 = all tracks
只要|只保留|只需要|仅要|仅|只 = only
保留 = keep
前 = the first
最后|后 # = the last
秒|秒钟 = seconds
分钟|分 = minutes
小时 = hours
半分钟 = 30 seconds
分半|分钟半 = minutes and a half
从 = from
到|至 = to
之间 = 
开始 = starting
以后|之后 = onwards
去掉|删掉|删除|剪掉|去除|切掉|裁掉|砍掉|剪去|删去 = remove
保存为|另存为|存为|保存成|输出为|输出成 = save as
命名为|名字叫|叫做|取名 = call it
保存到|存到|输出到|放到|放在 = save to
文件夹|目录 = folder
标准化|归一化|响度标准化|音量标准化|响度归一化|响度统一 = normalize
响度|音量 = loudness
无损|原音质|不损失音质 = lossless
最高音质|高音质|最佳音质|最好的音质|音质最好 = best quality
小文件|体积最小|最小体积|尽量小|文件小一点 = small file
音质 = quality
采样率 = sample rate
码率|比特率 = bitrate
单声道 = mono
立体声|双声道 = stereo
位深 = bit depth
位 = bit
解说|评论音轨|导演评论|导演解说 = commentary
主音轨|默认音轨|原声 = main track
另一个|另外一个|另一条 = the other
全部|所有 = all
不要|不用|别|不 = not
重新编码|转码 = re-encode
上传 = upload
云端|在云端 = in the cloud
本地 = locally
覆盖 = overwrite
状态|信息|音轨列表|有哪些音轨 = status
积分|余额|点数 = credits
全部一样|同样处理|都一样|全部都一样 = do the same for all
加|添加|加上 = add
混响 = reverb
降噪|去噪|去除背景噪音|去掉背景噪音 = remove background noise
翻译 = translate
字幕 = subtitles
第 = number
条|个|号|为|成|查看|查询|显示|出来|用|还有多少|还剩多少|多少 = 
和|以及|还有 = and
除了 = all except
除 = except
给|用于|用来 = for
我的 = my
转录|转写|语音识别 = transcription
铃声|手机铃声 = ringtone
播客 = podcast
回声 = echo
人声 = vocals
加速 = speed up
翻译成|翻译为 = translate into
""")
